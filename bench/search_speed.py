"""Search speed at N lecture-hours: index build throughput, query latency p50/p95, index size, against LIKE.

    .venv/bin/python bench/search_speed.py 100 1000 [10000] [--dir /tmp/search-bench] [--reps 5]
    .venv/bin/python bench/search_speed.py 100 --postgres postgresql+psycopg://…/scratch   # the other backend
    .venv/bin/python bench/search_speed.py 1000 --courses 1 5   # also as a member who sees 1, then 5 courses

For each size, one pass of ``bench/search_corpus.py`` feeds both
* the SQLite FTS5 index (``SqliteSearchIndex.rebuild``: the ``diemcau search reindex`` path, then 'optimize'),
* the baseline: a plain table of the same segments with a folded copy of the text, searched with one
  ``folded LIKE '%…%'`` per word or phrase, ANDed. The ratio is against the scan that finds every match (what a
  search that ranks or groups needs); the scan that stops at its first 20 matches is printed too (it is fast for
  common words, and it returns substrings: "ruong" is inside "truong").
Build times exclude corpus generation. Latency is end to end through ``SearchIndex.search`` (parse, tiers,
rows, snippets), over a mixed query set, after one warm-up pass; the baseline gets the same queries.
``--courses N``: the same queries again on the same index, as a viewer limited to N of the corpus's 40 courses
(``SearchFilters(courses=…)``, as the API searches for a member): p50/p95 and the slowest query per N.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from search_corpus import CorpusGenerator  # noqa: E402

from diemcau.core.search_query import parse_query  # noqa: E402
from diemcau.core.search_text import fold, fold_token  # noqa: E402
from diemcau.search.index import LectureMeta, SearchFilters  # noqa: E402
from diemcau.search.postgres_index import PostgresSearchIndex  # noqa: E402
from diemcau.search.sqlite_index import SqliteSearchIndex  # noqa: E402
from sqlalchemy import text  # noqa: E402

LIMIT = 20


def query_set(generator: CorpusGenerator) -> list[tuple[str, str]]:
    """(kind, query): common and rare single words, phrases, words without diacritics, mixes."""
    rare = generator.rare_words()
    return [
        ("common word", "của"),
        ("common word", "đảng"),
        ("common word", "dân"),
        ("common word", "là"),
        ("medium word", "khoa"),
        ("medium word", "thu"),
        ("medium word", "biên"),
        ("rare word", rare[0]),
        ("rare word", rare[1]),
        ("rare word", rare[2]),
        ("rare word", rare[3]),
        ("phrase", '"đảng viên"'),
        ("phrase", '"nghị quyết"'),
        ("phrase", '"chuyển đổi số"'),
        ("phrase", '"kinh tế tư nhân"'),
        ("phrase", '"bài thu hoạch"'),
        ("phrase", '"hợp tác xã"'),
        ("words", "phát triển kinh tế"),
        ("words", "đảng viên gương mẫu"),
        ("words", "học tập nghị quyết"),
        ("words", "chi bộ thôn"),
        ("no diacritics", "dang vien"),
        ("no diacritics", "nghi quyet"),
        ("no diacritics", "chuyen doi so"),
        ("no diacritics", "kinh te tu nhan"),
        ("no diacritics", '"bai thu hoach"'),
        ("no diacritics", "hoc bu"),
        ("no diacritics", fold(rare[1])),
        ("rare + common", f"của {rare[1]}"),
        ("rare + common", f"đảng {rare[0]}"),
        ("miss", "không có từ này zzzq"),
    ]


def like_conditions(query: str) -> tuple[str, list[str]]:
    """The naive baseline: one LIKE per word or phrase on the folded text."""
    parsed = parse_query(query)
    groups = [(t,) for t in parsed.terms] + list(parsed.phrases)
    patterns = ["%" + " ".join(fold_token(t) for t in group) + "%" for group in groups]
    return " AND ".join("folded LIKE ?" for _ in patterns), patterns


class Baseline:
    """A plain SQLite table of segments with a folded copy of the text, no index but the rowid."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE naive (id INTEGER PRIMARY KEY, lecture_id TEXT, start REAL, "
            '"end" REAL, text TEXT, folded TEXT)'
        )
        self.db.execute("BEGIN")
        self.seconds = 0.0

    def add(self, meta: LectureMeta, segments: list) -> None:
        started = time.perf_counter()
        self.db.executemany(
            'INSERT INTO naive (lecture_id, start, "end", text, folded) VALUES (?, ?, ?, ?, ?)',
            [(meta.lecture_id, s.start, s.end, s.text, fold(s.text)) for s in segments],
        )
        self.seconds += time.perf_counter() - started

    def finish(self) -> None:
        started = time.perf_counter()
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.seconds += time.perf_counter() - started

    def search(self, query: str) -> list:
        """Every matching segment."""
        where, params = like_conditions(query)
        return self.db.execute(f"SELECT id, text FROM naive WHERE {where}", params).fetchall()

    def first(self, query: str) -> list:
        """The first 20 matching segments, unranked."""
        where, params = like_conditions(query)
        return self.db.execute(f"SELECT id, text FROM naive WHERE {where} LIMIT {LIMIT}", params).fetchall()


def feed(
    generator: CorpusGenerator, hours: int, baseline: Baseline, outside: list[float], counts: list[int]
) -> Iterator:
    """Yield lectures to the index, timing what happens outside it (generation, the baseline's inserts)."""
    lectures = generator.lectures(hours)
    while True:
        started = time.perf_counter()
        item = next(lectures, None)
        if item is not None:
            baseline.add(*item)
            counts[0] += len(item[1])
            counts[1] += sum(len(s.text.split()) for s in item[1])
        outside[0] += time.perf_counter() - started
        if item is None:
            return
        yield item


def latencies(run, queries: list[tuple[str, str]], reps: int) -> list[float]:  # type: ignore[no-untyped-def]
    for _, query in queries:  # warm-up
        run(query)
    times = []
    for _ in range(reps):
        for _, query in queries:
            started = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def size_of(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def measure(
    hours: int, folder: Path, reps: int, postgres: str | None = None, course_counts: list[int] | None = None
) -> dict[str, float]:
    """Build both stores for ``hours`` lecture-hours and time the query set on each."""
    folder.mkdir(parents=True, exist_ok=True)
    index = SqliteSearchIndex(folder / "search.sqlite") if postgres is None else PostgresSearchIndex(postgres)
    baseline = Baseline(folder / "naive.sqlite")
    generator, outside, counts = CorpusGenerator(), [0.0], [0, 0]
    started = time.perf_counter()
    index.rebuild(feed(generator, hours, baseline, outside, counts))
    build = time.perf_counter() - started - outside[0]  # the index's own work only
    baseline.finish()
    if postgres is None:
        index._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        index_bytes = size_of(folder / "search.sqlite")
    else:
        with index.engine.begin() as db:
            db.execute(text("ANALYZE search_segments"))
            index_bytes = db.execute(text("SELECT pg_total_relation_size('search_segments')")).scalar()
    queries = query_set(generator)
    ours = latencies(lambda q: index.search(q, limit=LIMIT), queries, reps)
    naive_reps = max(1, reps // 5) if hours >= 1000 else reps
    naive = latencies(baseline.search, queries, naive_reps)
    first = latencies(baseline.first, queries, naive_reps)
    slowest = max(zip(ours, [q for _ in range(reps) for _, q in queries]), key=lambda pair: pair[0])
    filtered = {}
    for count in course_counts or []:
        filters = SearchFilters(courses=frozenset(f"nq-{k:02d}" for k in range(count)))  # the corpus's course ids
        times = latencies(lambda q, f=filters: index.search(q, limit=LIMIT, filters=f), queries, reps)
        worst = max(zip(times, [q for _ in range(reps) for _, q in queries]), key=lambda pair: pair[0])
        filtered[count] = (percentile(times, 0.5), percentile(times, 0.95), worst[0], worst[1])
    result = {
        "hours": hours,
        "segments": counts[0],
        "words": counts[1],
        "build_s": build,
        "baseline_build_s": baseline.seconds,
        "index_mb": index_bytes / 2**20,
        "baseline_mb": size_of(folder / "naive.sqlite") / 2**20,
        "p50": percentile(ours, 0.5),
        "p95": percentile(ours, 0.95),
        "like_p50": percentile(naive, 0.5),
        "like_p95": percentile(naive, 0.95),
        "first_p50": percentile(first, 0.5),
        "first_p95": percentile(first, 0.95),
        "load": os.getloadavg()[0],
        "slowest_ms": slowest[0],
        "slowest": slowest[1],
        "filtered": filtered,
    }
    index.close()
    return result


def report(r: dict[str, float]) -> str:
    """One line per size: figure, baseline and ratio."""
    return (
        f"{r['hours']:>6} h  {r['segments']:>9,} segments {r['words']:>11,} words | build {r['build_s']:7.1f} s "
        f"({r['words'] / r['build_s']:,.0f} words/s) | index {r['index_mb']:7.1f} MiB (LIKE table "
        f"{r['baseline_mb']:.1f} MiB) | p50 {r['p50']:.2f} ms, p95 {r['p95']:.2f} ms | LIKE p50 "
        f"{r['like_p50']:.1f} ms, p95 {r['like_p95']:.1f} ms | ratio p95 {r['like_p95'] / r['p95']:,.0f}x, "
        f"p50 {r['like_p50'] / r['p50']:,.0f}x | LIKE first 20: p50 {r['first_p50']:.1f} ms, p95 "
        f"{r['first_p95']:.1f} ms | slowest {r['slowest_ms']:.1f} ms for {r['slowest']!r} | load {r['load']:.1f}"
    ) + "".join(
        f"\n{'':>8}{count} course(s): p50 {p50:.2f} ms, p95 {p95:.2f} ms | slowest {ms:.1f} ms for {query!r}"
        for count, (p50, p95, ms, query) in r["filtered"].items()  # type: ignore[union-attr]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("hours", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--dir", type=Path, default=None, help="Where to build (default: a temp dir, removed).")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL", help="Measure the PostgreSQL backend in this (scratch!) database.")
    parser.add_argument("--courses", nargs="*", type=int, default=[], help="Also search as a viewer of N courses.")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        for hours in args.hours:
            print(report(measure(hours, root / f"h{hours}", args.reps, args.postgres, args.courses)), flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
