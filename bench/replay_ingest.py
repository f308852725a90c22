"""What counting replays adds to progress ingest: ``record_events`` per batch with and without the counter.

    .venv/bin/python bench/replay_ingest.py [--members 200] [--batches 5] [--batch 8] [--db URL]

Each member first watches 0–(batches × batch × 15 s) in heartbeats of 15 s (nothing replayed), then goes back to
the start and watches it all again (every span replayed: the counter's worst case, one UPSERT per batch touching
``batch × 1.5`` stretches). Baseline: the same workload with the replay step patched out (``add_replays`` a no-op,
``replayed_spans`` returning nothing), i.e. ingest as it was before. Prints ms per batch for each, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diemcau.adapters.db import progress as progress_store  # noqa: E402
from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker  # noqa: E402
from diemcau.adapters.db.replays import load_replays  # noqa: E402
from diemcau.core.progress import EventKind, ProgressEvent  # noqa: E402

SPAN = 15.0


def batches(member: str, count: int, size: int, offset: int) -> list[list[ProgressEvent]]:
    """``count`` batches of ``size`` consecutive 15 s heartbeats from the start of the lecture."""
    out, seq = [], offset
    for b in range(count):
        events = []
        for i in range(size):
            start = (b * size + i) * SPAN
            seq += 1
            events.append(ProgressEvent(f"{member}-{seq}", EventKind.HEARTBEAT, start, start + SPAN, seq))
        out.append(events)
    return out


def run(url: str, members: int, count: int, size: int) -> dict[tuple[str, str], list[float]]:
    """ms per batch by (mode, phase): modes alternate member by member, so machine load hits both alike."""
    factory = make_sessionmaker(make_engine(url))
    duration = count * size * SPAN
    real = progress_store.add_replays, progress_store.replayed_spans
    timings: dict[tuple[str, str], list[float]] = {}
    for m in range(members):
        for mode in ("baseline", "counted") if m % 2 else ("counted", "baseline"):
            if mode == "baseline":
                progress_store.add_replays, progress_store.replayed_spans = (lambda *a, **k: None), (lambda *a, **k: [])
            else:
                progress_store.add_replays, progress_store.replayed_spans = real
            member = f"{mode}-{m:05d}"
            for phase, offset in (("first", 0), ("again", 10_000)):
                for events in batches(member, count, size, offset):
                    began = time.perf_counter()
                    progress_store.record_events(factory, member, mode, duration, events)
                    timings.setdefault((mode, phase), []).append(1000 * (time.perf_counter() - began))
    progress_store.add_replays, progress_store.replayed_spans = real
    factory.kw["bind"].dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        ensure_schema(make_engine(url))
        timings = run(url, args.members, args.batches, args.batch)
        stretches = len(load_replays(make_sessionmaker(make_engine(url)), "counted"))
    n = args.members * args.batches
    print(
        f"{args.members} members x {args.batches} batches of {args.batch} heartbeats, watched twice ({n} batches each way)"
    )
    for phase, label in (
        ("first", "first watch (nothing replayed)"),
        ("again", "rewatch (all replayed: 1 UPSERT/batch)"),
    ):
        base, fig = timings[("baseline", phase)], timings[("counted", phase)]
        b, f = statistics.median(base), statistics.median(fig)
        print(
            f"{label}: baseline {b:.2f} ms/batch, with counter {f:.2f} ms/batch, ratio {f / b:.2f}"
            f"  (p90 {statistics.quantiles(base, n=10)[-1]:.2f} -> {statistics.quantiles(fig, n=10)[-1]:.2f})"
        )
    print(f"counter rows for the lecture: {stretches}")


if __name__ == "__main__":
    main()
