"""Dashboard render time: the cell view of a commune of 2,500 members and the committee view of a province of
100,000, each against a naive baseline in the same run.

    .venv/bin/python bench/dashboard_render.py [--commune 2500] [--province 100000] [--communes 40] [--reps 3]
    .venv/bin/python bench/dashboard_render.py --browser [--pages 50] [--reps 3]

``--browser``: the pages as staff get them, in Chromium, on a real hub over the demo province (tests/hubserver.py):
for the secretary's ``cell.ipynb`` and the commune committee's ``committee.ipynb``, the cold load (bytes on the
wire, requests, any request outside 127.0.0.1) and the median warm render (navigation until the page's numbers
show), beside the baseline recorded before this template (8.97 MB, 83 requests, 3 of them to CDNs, 6–8 s);
then ``--pages`` dashboard pages opened one after another and left open against the secretary's one server,
with the kernels' total RSS, and how many kernels are left once the pages are closed.

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
    tokens.write_text(
        json.dumps({"token-commune": synthetic.commune_committee, "token-province": synthetic.province_committee})
    )
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
    print(
        f"  API answer {fetch * 1000:,.0f} ms + view-model {render * 1000:,.0f} ms = {total * 1000:,.0f} ms"
        f"  ({len(completion['members']):,} rows, {len(page) / 1e6:.1f} MB of HTML + text)"
    )
    print(
        f"  baseline, one read per member and lecture: {naive * 1000:,.0f} ms"
        f"  ({naive / len(cards) * 1e6:,.0f} µs per member)  ratio {naive / total:.1f}x"
    )
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
    print(
        f"  units {units_s:,.2f} s + history {history_s:,.2f} s + view-model {render * 1000:,.0f} ms = {total:,.2f} s"
        f"  ({len(units['units']):,} units)"
    )
    print(
        f"  baseline, full member list + tally in the notebook: {full_s:,.2f} s + {tally_s:,.2f} s = {baseline:,.2f} s"
        f"  ratio {baseline / total:.2f}x"
    )
    print(
        f"  baseline, one read per member (extrapolated from the commune): {per_member_naive * members:,.0f} s"
        f"  ratio {per_member_naive * members / total:.0f}x"
    )


BASELINE_COLD_MB, BASELINE_REQUESTS = 8.97, 83  # measured at 2b377ed (lab template, plotly renderer), same probe


def bench_browser(pages: int, reps: int) -> None:
    """Cold weight, warm render time and kernel memory of the dashboards in Chromium on a real hub."""
    import psutil
    from playwright.sync_api import sync_playwright

    from diemcau.demo.seed import seed_demo
    from tests.browser import launch_chromium, log_in
    from tests.hubserver import start_hub

    hub_run = start_hub(seed_demo)
    hub = next(hub_run)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for card, notebook in (("42000001", "cell.ipynb"), ("42000021", "committee.ipynb")):
                url = f"{hub.url}user/{card}/voila/render/{notebook}"
                context = browser.new_context(viewport={"width": 360, "height": 740})
                page = context.new_page()
                log_in(page, hub.url, card)
                page.goto(f"{hub.url}hub/spawn/{card}", timeout=300_000)
                page.wait_for_url("**/user/**", timeout=300_000)
                cold = browser.new_context(
                    viewport={"width": 360, "height": 740}, storage_state=context.storage_state()
                )
                cold_page = cold.new_page()
                weight, requests, outside, _ = load_dashboard(cold_page, url)
                shots = Path(tempfile.gettempdir()) / "shots-voila"
                shots.mkdir(exist_ok=True)
                cold_page.screenshot(path=str(shots / f"{notebook}-360.png"), full_page=True)
                cold.close()
                times = [load_dashboard(context.new_page(), url, close=True)[3] for _ in range(reps + 1)][1:]
                print(
                    f"{notebook} as {card}: cold {weight / 1e6:.2f} MB in {requests} requests"
                    f" (baseline {BASELINE_COLD_MB} MB in {BASELINE_REQUESTS}: ratio {BASELINE_COLD_MB * 1e6 / weight:.1f}x),"
                    f" outside 127.0.0.1: {outside or 'none'}; warm render median {statistics.median(times):.2f} s"
                    f" ({', '.join(f'{x:.1f}' for x in times)})"
                )
                if notebook == "cell.ipynb" and pages:
                    kernels_under_load(hub, context, url, pages, psutil)
                context.close()
            browser.close()
    finally:
        next(hub_run, None)


def load_dashboard(page, url: str, close: bool = False) -> tuple[int, int, list[str], float]:  # type: ignore[no-untyped-def]
    """Open a dashboard; bytes received (headers + encoded bodies), requests, the URLs outside 127.0.0.1, and the
    seconds until its numbers show (the first heading a view-model wrote)."""
    sizes: list[int] = []
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on(
        "requestfinished",
        lambda request: sizes.append(sum(request.sizes()[k] for k in ("responseBodySize", "responseHeadersSize"))),
    )
    started = time.perf_counter()
    page.goto(url, timeout=300_000)
    page.wait_for_selector("#rendered_cells .widget-html-content h3", state="visible", timeout=300_000)
    seconds = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    if close:
        page.close()
    return sum(sizes), len(urls), [u for u in urls if not u.startswith("http://127.0.0.1")], seconds


def staff_kernels(hub, psutil) -> list:  # type: ignore[no-untyped-def]
    """The kernel processes under this hub (its staff servers' ipykernels)."""
    found = []
    for process in psutil.Process(hub.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass
    return found


def kernels_under_load(hub, context, url: str, pages: int, psutil) -> None:  # type: ignore[no-untyped-def]
    """``pages`` dashboard pages left open on one staff server: kernels, their RSS; then closed."""
    before = len(staff_kernels(hub, psutil))
    opened = []
    for _ in range(pages):
        page = context.new_page()
        load_dashboard(page, url)
        opened.append(page)
    kernels = staff_kernels(hub, psutil)
    rss = sum(k.memory_info().rss for k in kernels)
    uss = sum(k.memory_full_info().uss for k in kernels)  # what each kernel holds alone (shared libraries apart)
    server = next(
        p for p in psutil.Process(hub.process.pid).children(recursive=True) if "singleuser" in " ".join(p.cmdline())
    )
    print(
        f"  {pages} pages open: {len(kernels)} kernels ({before} before), RSS {rss / 2**20:,.0f} MiB in all"
        f" ({rss / len(kernels) / 2**20:,.0f} MiB each), USS {uss / 2**20:,.0f} MiB ({uss / len(kernels) / 2**20:,.0f} MiB"
        f" each); the staff server itself RSS {server.memory_info().rss / 2**20:,.0f} MiB,"
        f" USS {server.memory_full_info().uss / 2**20:,.0f} MiB"
    )
    for page in opened:
        page.close(run_before_unload=True)
    deadline = time.monotonic() + 30
    while staff_kernels(hub, psutil) and time.monotonic() < deadline:
        time.sleep(1)
    print(
        f"  closed them: {len(staff_kernels(hub, psutil))} kernels left after {30 - max(0, deadline - time.monotonic()):.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commune", type=int, default=2500)
    parser.add_argument("--province", type=int, default=100_000)
    parser.add_argument("--communes", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="the Voila pages in Chromium on a real hub")
    parser.add_argument("--pages", type=int, default=50, help="with --browser: pages left open for the kernel count")
    args = parser.parse_args()
    if args.browser:
        bench_browser(args.pages, args.reps)
        print("load average %.1f %.1f %.1f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))
        return
    per_member = bench_commune(args.commune, args.reps)
    bench_province(args.province, args.communes, args.reps, per_member)
    print("load average %.1f %.1f %.1f on %d CPUs" % (*os.getloadavg(), os.cpu_count()))


if __name__ == "__main__":
    main()
