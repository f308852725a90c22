"""``diemcau search``: the real command line, in-process, on a data directory in tmp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from diemcau.adapters.db.engine import make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.models import CourseRow, LectureRow
from diemcau.adapters.transcript_store import write_transcript
from diemcau.apps.cli import app
from diemcau.core.transcript import Segment, Transcript
from tests.data_dirs import data_dir_environ, sqlite_url


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing the CLI at a fresh data directory and content folders in tmp."""
    return data_dir_environ(tmp_path, DIEMCAU_DATABASE__URL=sqlite_url(tmp_path))


def invoke(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def indexed(env: dict[str, str]) -> dict[str, str]:
    """Two ready lectures in two courses with transcripts, and the index rebuilt by the CLI."""
    invoke(env, "init")
    engine = make_engine(env["DIEMCAU_DATABASE__URL"])
    with transaction(make_sessionmaker(engine)) as session:
        for course, lecture in (("nq57", "lec57"), ("nq66", "lec66")):
            session.add(CourseRow(id=course, title=course, resolutions=[], completion_rule={}))
            session.flush()
            session.add(LectureRow(id=lecture, course_id=course, title=f"Bài giảng {course}", status="ready"))
    engine.dispose()
    for lecture in ("lec57", "lec66"):
        segments = (Segment(0, 12.0, 20.0, "Đảng viên phải gương mẫu."), Segment(1, 95.0, 101.0, "chuyển đổi số"))
        write_transcript(Path(env["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"]), Transcript(lecture, "vi", segments))
    result = invoke(env, "search", "reindex")
    assert result.stdout.strip() == "2 lecture(s), 4 segment(s) indexed"
    return env


def test_json_output_lists_hits(indexed: dict[str, str]) -> None:
    """Does --json print an array of hits with lecture_id, title, start, end, text and snippet?"""
    hits = json.loads(invoke(indexed, "search", "dang vien", "--json").stdout)
    assert {h["lecture_id"] for h in hits} == {"lec57", "lec66"}
    hit = next(h for h in hits if h["lecture_id"] == "lec57")
    assert {k: hit[k] for k in ("title", "start", "end", "text", "kind")} == {
        "title": "Bài giảng nq57",
        "start": 12.0,
        "end": 20.0,
        "text": "Đảng viên phải gương mẫu.",
        "kind": "spoken",
    }
    assert hit["snippet"] == "<mark>Đảng</mark> <mark>viên</mark> phải gương mẫu."
    assert hit["link"] == "/services/diemcau/lectures/lec57?t=12"


def test_course_and_limit_options(indexed: dict[str, str]) -> None:
    """Do --course and --limit narrow the hits?"""
    hits = json.loads(invoke(indexed, "search", "--json", "--course", "nq66", "đảng").stdout)
    assert [h["lecture_id"] for h in hits] == ["lec66"]
    assert len(json.loads(invoke(indexed, "search", "đảng", "--limit", "1", "--json").stdout)) == 1


def test_text_output_and_no_hits(indexed: dict[str, str]) -> None:
    """Does the plain output show id, times and text, and does a miss say so on stderr with status 0?"""
    assert (
        "lec57\t0:01:35–0:01:41\tBài giảng nq57\n    chuyển đổi số" in invoke(indexed, "search", "chuyen doi so").stdout
    )
    result = invoke(indexed, "search", "không có từ này")
    assert result.stdout == "" and "No hits." in result.stderr


def test_hostile_query_on_the_command_line(indexed: dict[str, str]) -> None:
    """Does a hostile query (operators, quotes, NUL-free junk) print a JSON array rather than fail?"""
    hits = json.loads(invoke(indexed, "search", '"đảng AND NEAR(* -x ^', "--json").stdout)
    assert isinstance(hits, list)


def test_word_reindex_can_still_be_searched(indexed: dict[str, str]) -> None:
    """Can the word "reindex" itself be searched through the explicit ``query`` command?"""
    assert json.loads(invoke(indexed, "search", "query", "reindex", "--json").stdout) == []


def test_bad_limit_is_refused(indexed: dict[str, str]) -> None:
    """Is --limit 0 refused with a usage error naming the option?"""
    result = invoke(indexed, "search", "đảng", "--limit", "0", code=2)
    assert "--limit" in result.output
