"""``diemcau lecture attach``: the real command line, in-process, on a data directory in tmp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from diemcau.adapters.db.engine import make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.models import CourseRow, LectureRow
from diemcau.apps.cli import app
from diemcau.i18n import t
from tests.data_dirs import data_dir_environ, sqlite_url
from tests.material_fixtures import make_encrypted_pdf, make_pdf, make_scanned_pdf


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data directory with one ready lecture ``lecture57``, set up by ``diemcau init``."""
    environ = data_dir_environ(tmp_path, DIEMCAU_DATABASE__URL=sqlite_url(tmp_path))
    invoke(environ, "init")
    engine = make_engine(environ["DIEMCAU_DATABASE__URL"])
    with transaction(make_sessionmaker(engine)) as session:
        session.add(CourseRow(id="nq57", title="Nghị quyết 57", resolutions=[], completion_rule={}))
        session.flush()
        session.add(LectureRow(id="lecture57", course_id="nq57", title="Bài giảng NQ 57", status="ready"))
    engine.dispose()
    return environ


def invoke(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_attach_then_search_finds_the_document(env: dict[str, str], tmp_path: Path) -> None:
    """Does ``lecture attach`` store a PDF that ``diemcau search`` then finds, also after a reindex?"""
    path = make_pdf(tmp_path / "nq57.pdf")
    out = json.loads(invoke(env, "lecture", "attach", "lecture57", str(path), "--json").stdout)
    assert (out["name"], out["kind"], out["pages"]) == ("nq57.pdf", "pdf", 2)
    assert (out["search"], out["replaced"]) == ("indexed", False)
    hits = json.loads(invoke(env, "search", "chuyen doi so", "--json").stdout)
    assert [(h["kind"], h["doc_name"], h["page"]) for h in hits] == [("document", "nq57.pdf", 2)]
    invoke(env, "search", "reindex")
    assert len(json.loads(invoke(env, "search", "chuyen doi so", "--json").stdout)) == 1


def test_attach_refuses_a_taken_name_without_replace(env: dict[str, str], tmp_path: Path) -> None:
    """Is a second file of the same name refused with the Vietnamese reason, and accepted with --replace?"""
    path = make_pdf(tmp_path / "nq57.pdf")
    invoke(env, "lecture", "attach", "lecture57", str(path))
    refused = invoke(env, "lecture", "attach", "lecture57", str(path), code=1)
    assert t("materials.duplicate", name="nq57.pdf") in refused.output
    assert "search: indexed" in invoke(env, "lecture", "attach", "lecture57", str(path), "--replace").stdout


def test_attach_explains_refusals_and_scans(env: dict[str, str], tmp_path: Path) -> None:
    """Does an encrypted PDF exit 1 with its message, and a scan attach with the "not searchable" warning?"""
    refused = invoke(env, "lecture", "attach", "lecture57", str(make_encrypted_pdf(tmp_path / "khoa.pdf")), code=1)
    assert t("materials.encrypted_pdf") in refused.output
    scanned = invoke(env, "lecture", "attach", "lecture57", str(make_scanned_pdf(tmp_path / "scan.pdf")))
    assert "search: no_text" in scanned.stdout and t("materials.no_text") in scanned.output
    missing = invoke(env, "lecture", "attach", "lecture57", str(tmp_path / "khong-co.pdf"), code=1)
    assert "No such file" in missing.output
