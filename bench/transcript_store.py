"""The transcript store on a two-hour lecture: atomic writes, caption parsing, one correction, re-application.

Each figure is printed with a baseline measured in the same run, and their ratio:
- ``write_transcript`` (four files staged, fsynced, renamed, JSON last) vs. writing the same four texts
  plainly (no temporary file, no fsync) — the price of atomicity;
- our WebVTT parser vs. webvtt-py on the same file;
- one trainer correction through ``apply_edit`` on SQLite (load, validate, write, record) vs. a bare
  ``write_transcript`` of the same transcript;
- ``reapply_corrections`` of 100 corrections onto a fresh transcript vs. building that transcript.
Medians of ``ROUNDS``. Run: `.venv/bin/python bench/transcript_store.py`.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import webvtt  # noqa: E402

from diemcau.adapters import transcript_store as store  # noqa: E402
from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker  # noqa: E402
from diemcau.adapters.transcript_edits import apply_edit, edit_history, reapply_corrections  # noqa: E402
from diemcau.core.captions import parse_vtt, render_vtt  # noqa: E402
from diemcau.core.corrections import corrected_spans  # noqa: E402
from diemcau.core.transcript import Segment, Transcript  # noqa: E402
from tests.transcript_fixtures import seed_lecture, words_of  # noqa: E402

ROUNDS = 15
SEGMENTS = 1800  # two hours at 4 s per segment
TEXT = "hôm nay chúng ta học tập quán triệt nghị quyết của ban chấp hành trung ương về công tác xây dựng đảng"


def lecture(lecture_id: str, shift: float = 0.0) -> Transcript:
    segments = tuple(
        Segment(i, i * 4.0 + shift, i * 4.0 + 3.6 + shift, TEXT, words_of(TEXT, i * 4.0 + shift, i * 4.0 + 3.6 + shift))
        for i in range(SEGMENTS)
    )
    return Transcript(lecture_id, "vi", segments, model="base")


def median_ms(action: Callable[[], object]) -> float:
    action()  # warm-up
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def plain_write(folder: Path, transcript: Transcript) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    contents = {name: render(transcript) for name, render in store.DERIVED.items()}
    contents[store.JSON_NAME] = store._json_text(transcript)
    for name, text in contents.items():
        (folder / name).write_text(text, encoding="utf-8")


def report(name: str, figure: float, baseline_name: str, baseline: float) -> None:
    print(f"{name}: {figure:.1f} ms | baseline {baseline_name}: {baseline:.1f} ms | ratio {figure / baseline:.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        transcript = lecture("lecBench01")
        ours = median_ms(lambda: store.write_transcript(root / "t", transcript))
        plain = median_ms(lambda: plain_write(root / "plain" / "lecBench01", transcript))
        size = sum(p.stat().st_size for p in (root / "t" / "lecBench01").glob("transcript.*")) / 1e6
        report(f"write_transcript ({SEGMENTS} segments, {size:.1f} MB)", ours, "plain writes", plain)

        vtt = render_vtt(transcript)
        report(
            "parse_vtt",
            median_ms(lambda: parse_vtt(vtt)),
            "webvtt-py",
            median_ms(lambda: list(webvtt.from_buffer(io.StringIO(vtt)))),
        )

        engine = make_engine(f"sqlite:///{root / 'bench.sqlite'}")
        ensure_schema(engine)
        factory = make_sessionmaker(engine)
        seed_lecture(factory, "lecBench01")
        counter = iter(range(10_000))
        edit = lambda: apply_edit(factory, root / "t", "lecBench01", 900, "b1002", text=f"sửa {next(counter)}")  # noqa: E731
        report("apply_edit (SQLite)", median_ms(edit), "write_transcript", ours)

        for i in range(0, SEGMENTS, SEGMENTS // 100):
            apply_edit(factory, root / "t", "lecBench01", i, "b1002", text=f"đoạn {i} đã sửa")
        edits = edit_history(factory, "lecBench01")
        fresh = lecture("lecBench01", shift=0.15)
        build = median_ms(lambda: lecture("lecBench01", shift=0.15))
        reapply = median_ms(lambda: reapply_corrections(fresh, edits))
        report(f"reapply_corrections ({len(edits)} edits)", reapply, "building the transcript", build)
        replaced = reapply_corrections(fresh, edits)
        finals = corrected_spans(edits)
        kept = sum(1 for f in finals if any(s.text == f.text and s.start == f.start for s in replaced.segments))
        print(f"corrected segments carried over: {kept}/{len(finals)}")
        assert replace(replaced, segments=()) == replace(fresh, segments=())


if __name__ == "__main__":
    main()
