"""Dashboard render time: the cell view of a commune of 2,500 members and the committee view of a province of
100,000, each against a naive baseline in the same run.

    .venv/bin/python bench/dashboard_render.py [--commune 2500] [--province 100000] [--communes 40] [--reps 3]

Data: ``bench/synthetic_province.py`` seeded straight into SQLite (two one-hour lectures; a third of members
done, a third midway, a third not started). The API runs as its own process (``bench/api_server.py``);
figures are medians of ``--reps`` after a warm-up, split into the API's answer (HTTP round trip, JSON) and the
view-model (``diemcau.dashboards``: rows, HTML table, reminder text / tree, slowest units, history series).

* Commune: ``cell.ipynb`` opened on the commune by its committee — ``GET /completion?org=`` + ``cell_view``.
  Baseline: one database read per member and lecture (``load_progress``) and the rule applied per member,
  what a page built on per-member reads does.
* Province: ``committee.ipynb`` — ``GET /completion/units`` + ``GET /completion/history`` + ``committee_view``.
  Baseline: the same tree tallied in the notebook from the full per-member list (``GET /completion``, one row
  per member), what the page would do without the aggregate route. The per-member baseline is extrapolated
  from the commune's per-member cost (running it 100,000 times is the point of not doing so).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from progress_ingest import free_port, start_api  # noqa: E402
from synthetic_province import COURSE, LECTURES, seed_synthetic  # noqa: E402

from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker  # noqa: E402
from diemcau.adapters.db.progress import load_progress  # noqa: E402
from diemcau.core.completion import MemberRecords, evaluate  # noqa: E402
from diemcau.core.completion_tree import tally_units  # noqa: E402
from diemcau.core.course import CompletionRule  # noqa: E402
from diemcau.core.orgtree import OrgUnit  # noqa: E402
from diemcau.dashboards import cell_view, committee_view  # noqa: E402
from diemcau.dashboards.api_client import ApiClient  # noqa: E402

TODAY = dt.date(2026, 3, 10)
DEADLINE = dt.date(2026, 3, 31)
TITLES = {lec: f"Bài {i + 1}" for i, lec in enumerate(LECTURES)}


def timed(call: Callable[[], object], reps: int) -> tuple[float, object]:
    """Median seconds of ``reps`` calls after one warm-up, and the last result."""
    result = call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cell_page(completion: dict) -> str:
    view = cell_view.build_cell_view(completion, TITLES, {}, 21)
    return cell_view.table_html(view.lines, view) + cell_view.reminder_text(view, "Đảng bộ xã 1")


def naive_cell(factory, cards: list[str]) -> int:  # type: ignore[no-untyped-def]
    """One read per member and lecture, the rule per member: how many completed."""
    done = 0
    for card in cards:
        coverage = {lec: load_progress(factory, card, lec).coverage_percent for lec in LECTURES}
        done += evaluate(CompletionRule(), LECTURES, (), MemberRecords(coverage)).completed
    return done


def committee_page(units: dict, history: dict) -> str:
    lines = committee_view.unit_lines(units)
    committee_view.slowest_subunits(lines), committee_view.slowest_leaves(lines), committee_view.history_series(history)
    return committee_view.tree_html(lines)


def tally_from_members(completion: dict, units: list[dict]) -> list:
    org_units = [OrgUnit(u["code"], u["name"], u["kind"], u["path"]) for u in units]
    return tally_units(org_units, ((m["unit"]["path"], m["status"]) for m in completion["members"]))


def seeded_api(members: int, communes: int, home: Path):  # type: ignore[no-untyped-def]
    """A seeded database and the API over it; returns (factory, api process, base URL)."""
    url = f"sqlite:///{home / 'bench.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    synthetic = seed_synthetic(factory, members, communes, DEADLINE)
    print(f"  seeded {synthetic.members:,} members in {time.perf_counter() - started:.1f} s")
    tokens = home / "tokens.json"
    tokens.write_text(json.dumps({"token-commune": synthetic.commune_committee, "token-province": synthetic.province_committee}))
    port = free_port()
    process = start_api(url, port, tokens, home)
    return factory, process, f"http://127.0.0.1:{port}/services/diemcau"


def bench_commune(members: int, reps: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"commune of {members:,} members (cell view):")
        factory, api, url = seeded_api(members, 1, Path(tmp))
        try:
            client = ApiClient(url, "token-commune", timeout=600)
            fetch, completion = timed(lambda: client.completion(COURSE, "xa-001"), reps)
            render, page = timed(lambda: cell_page(completion), reps)
            cards = [m["card"] for m in completion["members"]]
            naive, _ = timed(lambda: naive_cell(factory, cards), 1)
        finally:
            api.terminate()
            api.wait()
    total = fetch + render
    print(f"  API answer {fetch * 1000:,.0f} ms + view-model {render * 1000:,.0f} ms = {total * 1000:,.0f} ms"
          f"  ({len(completion['members']):,} rows, {len(page) / 1e6:.1f} MB of HTML + text)")
    print(f"  baseline, one read per member and lecture: {naive * 1000:,.0f} ms"
          f"  ({naive / len(cards) * 1e6:,.0f} µs per member)  ratio {naive / total:.1f}x")
    return naive / len(cards)


def bench_province(members: int, communes: int, reps: int, per_member_naive: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"province of {members:,} members in {communes} communes (committee view):")
        _factory, api, url = seeded_api(members, communes, Path(tmp))
        try:
            client = ApiClient(url, "token-province", timeout=1200)
            units_s, units = timed(lambda: client.completion_units(COURSE), reps)
            history_s, history = timed(lambda: client.completion_history(COURSE), reps)
            render, _page = timed(lambda: committee_page(units, history), reps)
            org_units = client.org_units()
            full_s, completion = timed(lambda: client.completion(COURSE), 1)
            tally_s, _ = timed(lambda: tally_from_members(completion, org_units), 1)
        finally:
            api.terminate()
            api.wait()
    total = units_s + history_s + render
    baseline = full_s + tally_s
    print(f"  units {units_s:,.2f} s + history {history_s:,.2f} s + view-model {render * 1000:,.0f} ms = {total:,.2f} s"
          f"  ({len(units['units']):,} units)")
    print(f"  baseline, full member list + tally in the notebook: {full_s:,.2f} s + {tally_s:,.2f} s = {baseline:,.2f} s"
          f"  ratio {baseline / total:.2f}x")
    print(f"  baseline, one read per member (extrapolated from the commune): {per_member_naive * members:,.0f} s"
          f"  ratio {per_member_naive * members / total:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commune", type=int, default=2500)
    parser.add_argument("--province", type=int, default=100_000)
    parser.add_argument("--communes", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    per_member = bench_commune(args.commune, args.reps)
    bench_province(args.province, args.communes, args.reps, per_member)
    print("load average %.1f %.1f %.1f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))


if __name__ == "__main__":
    main()
