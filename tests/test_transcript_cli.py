"""``diemcau transcript``: caption import (round trip, line-precise errors, --force), export, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from diemcau.adapters import transcript_store as store
from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker
from diemcau.adapters.transcript_edits import apply_edit
from diemcau.apps.cli import app
from diemcau.core.captions import parse_vtt
from diemcau.core.corrections import SYSTEM_EDITOR
from tests.data_dirs import data_dir_environ
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

VTT = """WEBVTT

NOTE phụ đề có sẵn của bài giảng

1
00:00:01.000 --> 00:00:04.000 line:90%
<v Báo cáo viên>Kính thưa các đồng chí</v>

2
00:00:04.500 --> 00:00:09.250
Hôm nay chúng ta học tập
<i>Nghị quyết Đại hội XIII</i>
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data directory whose database holds one lecture (no transcript yet)."""
    url = f"sqlite:///{tmp_path / 'var' / 'diemcau.sqlite'}"
    (tmp_path / "var").mkdir()
    engine = make_engine(url)
    ensure_schema(engine)
    seed_lecture(make_sessionmaker(engine))
    engine.dispose()
    return data_dir_environ(tmp_path, DIEMCAU_DATABASE__URL=url)


def invoke(env: dict[str, str], *args: str, code: int = 0) -> Result:
    """Run the CLI and check its exit code."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _caption(tmp_path: Path, text: str, name: str = "captions.txt") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def test_import_then_export_gives_the_same_cues(env: dict[str, str], tmp_path: Path) -> None:
    """Does a WebVTT file imported and exported again carry the same cues (times and text, markup stripped)?"""
    invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, VTT, "any-name.dat"))
    exported = invoke(env, "transcript", "export", LECTURE_ID, "--format", "vtt").stdout
    assert [(c.start, c.end, c.text) for c in parse_vtt(exported).cues] == [
        (1.0, 4.0, "Kính thưa các đồng chí"),
        (4.5, 9.25, "Hôm nay chúng ta học tập Nghị quyết Đại hội XIII"),
    ]
    again = _caption(tmp_path, exported, "again.vtt")
    invoke(env, "transcript", "import", LECTURE_ID, again)
    assert invoke(env, "transcript", "export", LECTURE_ID, "--format", "vtt").stdout == exported


def test_export_formats(env: dict[str, str], tmp_path: Path) -> None:
    """Do SRT, TXT and JSON exports reach stdout in their formats?"""
    srt = "1\r\n00:00:01,000 --> 00:00:02,000\r\nMột\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nHai\r\n"
    invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, "\ufeff" + srt))
    assert invoke(env, "transcript", "export", LECTURE_ID, "--format", "srt").stdout.startswith(
        "1\n00:00:01,000 --> 00:00:02,000\nMột\n"
    )
    assert invoke(env, "transcript", "export", LECTURE_ID, "--format", "txt").stdout == "Một\nHai\n"
    data = json.loads(invoke(env, "transcript", "export", LECTURE_ID, "--format", "json").stdout)
    assert data["source"] == "captions" and data["settings"] == {"caption_format": "srt"}
    assert [s["text"] for s in data["segments"]] == ["Một", "Hai"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\n00:03.000 --> 00:0x.000\ny\n", "Dòng 6: Mốc thời gian"),
        ("1\n00:00:05,000 --> 00:00:02,000\nx\n", "Dòng 2: Thời điểm kết thúc"),
        ("Xin chào\n", "Dòng 1: Đây không phải tệp phụ đề"),
        ("", "Tệp phụ đề trống"),
    ],
)
def test_malformed_files_fail_with_the_line_and_write_nothing(
    env: dict[str, str], tmp_path: Path, text: str, message: str
) -> None:
    """Does a malformed caption file exit 1 with a Vietnamese line-precise message, writing nothing?"""
    result = invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, text), code=1)
    assert message in result.output
    assert not (tmp_path / "transcripts" / LECTURE_ID / "transcript.json").exists()


def test_binary_and_missing_files_and_unknown_lectures(env: dict[str, str], tmp_path: Path) -> None:
    """Are a non-UTF-8 file (with its line), a missing file and an unknown lecture refused clearly?"""
    binary = tmp_path / "video.mp4"
    binary.write_bytes(b"WEBVTT\n\n\xff\xfe\x00")
    assert "Dòng 3" in invoke(env, "transcript", "import", LECTURE_ID, str(binary), code=1).output
    missing = invoke(env, "transcript", "import", LECTURE_ID, str(tmp_path / "nope.vtt"), code=1)
    assert "No such file" in missing.output
    unknown = invoke(env, "transcript", "import", "noSuchLec", _caption(tmp_path, VTT), code=1)
    assert "Không tìm thấy bài giảng noSuchLec" in unknown.output
    assert "chưa có bản ghi" in invoke(env, "transcript", "export", LECTURE_ID, code=1).output


def test_a_corrected_transcript_needs_force(env: dict[str, str], tmp_path: Path) -> None:
    """Is a corrected transcript kept unless --force, and with --force are corrections re-applied and listed?"""
    invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, VTT))
    factory = make_sessionmaker(make_engine(env["DIEMCAU_DATABASE__URL"]))
    transcripts = Path(env["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"])
    apply_edit(factory, transcripts, LECTURE_ID, 0, "b1002", text="Kính thưa toàn thể các đồng chí")
    corrected = store.load_transcript(transcripts, LECTURE_ID)
    refused = invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, VTT), code=1)
    assert "đã được báo cáo viên sửa 1 lần" in refused.output and "--force" in refused.output
    assert store.load_transcript(transcripts, LECTURE_ID) == corrected
    invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, VTT), "--force")
    assert "Kính thưa toàn thể các đồng chí" in invoke(env, "transcript", "export", LECTURE_ID, "-f", "txt").stdout
    history = invoke(env, "transcript", "history", LECTURE_ID).stdout
    assert "b1002" in history and "Kính thưa toàn thể các đồng chí" in history
    rows = json.loads(invoke(env, "transcript", "history", LECTURE_ID, "--json").stdout)
    assert rows[0]["changed"] == ["text"] and rows[0]["before"]["text"] == "Kính thưa các đồng chí"


def test_a_correction_is_undone_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    """Does ``transcript revert`` put a corrected segment back as a new correction, and refuse an edit that is no
    longer in place, an unknown one and an unknown lecture with a message and nothing written?"""
    invoke(env, "transcript", "import", LECTURE_ID, _caption(tmp_path, VTT))
    factory = make_sessionmaker(make_engine(env["DIEMCAU_DATABASE__URL"]))
    transcripts = Path(env["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"])
    apply_edit(factory, transcripts, LECTURE_ID, 0, SYSTEM_EDITOR, text="Kính thưa toàn thể các đồng chí")
    [edit] = json.loads(invoke(env, "transcript", "history", LECTURE_ID, "--json").stdout)
    assert invoke(env, "transcript", "history", LECTURE_ID).stdout.startswith(f"{edit['id']}\t")
    invoke(env, "transcript", "revert", LECTURE_ID, str(edit["id"]), "--editor", "b1002")
    assert store.load_transcript(transcripts, LECTURE_ID).segments[0].text == "Kính thưa các đồng chí"
    rows = json.loads(invoke(env, "transcript", "history", LECTURE_ID, "--json").stdout)
    assert [(r["editor"], r["after"]["text"]) for r in rows][-1] == ("b1002", "Kính thưa các đồng chí")
    reverted = store.load_transcript(transcripts, LECTURE_ID)
    stale = invoke(env, "transcript", "revert", LECTURE_ID, str(edit["id"]), code=1)
    assert "không thể hoàn tác" in stale.output
    assert "Không có lần sửa số 999999" in invoke(env, "transcript", "revert", LECTURE_ID, "999999", code=1).output
    assert "Không tìm thấy bài giảng" in invoke(env, "transcript", "revert", "noSuchLec", "1", code=1).output
    assert store.load_transcript(transcripts, LECTURE_ID) == reverted
    assert len(json.loads(invoke(env, "transcript", "history", LECTURE_ID, "--json").stdout)) == 2
