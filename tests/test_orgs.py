"""Loading the org tree from YAML into the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import OrgUnitRow
from diemcau.adapters.db.orgs import OrgTreeError, find_unit, list_units, load_org_tree

DATA = Path(__file__).parent / "data"
TREE = DATA / "org_tree.yaml"


def paths(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        return {unit.code: unit.path for unit in list_units(session)}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tree.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_tree_of_depth_four(session_factory: sessionmaker[Session]) -> None:
    """Does a tree of depth 4 load with materialised paths and parent links?"""
    report = load_org_tree(session_factory, TREE)
    assert report.created == 8
    tree = paths(session_factory)
    assert tree["cb-thon-2"] == "/ha-tinh/xa-a/db-thon/cb-thon-2/"
    assert tree["cb-b-1"] == "/ha-tinh/xa-b/cb-b-1/"
    with session_factory() as session:
        cell = find_unit(session, "cb-thon-2")
        assert cell is not None and cell.name == "Chi bộ thôn 2"
        parent = session.get(OrgUnitRow, cell.parent_id)
        assert parent is not None and parent.code == "db-thon"
        assert [u.code for u in list_units(session, "/ha-tinh/xa-a/db-thon/")] == ["db-thon", "cb-thon-1", "cb-thon-2"]


def test_reload_is_idempotent(session_factory: sessionmaker[Session]) -> None:
    """Does loading the same file twice change nothing the second time?"""
    load_org_tree(session_factory, TREE)
    before = paths(session_factory)
    report = load_org_tree(session_factory, TREE)
    assert (report.created, report.updated, report.moved, report.unchanged) == (0, 0, 0, 8)
    assert paths(session_factory) == before


def test_move_rewrites_descendant_paths(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """When a unit moves under another parent, and is renamed, are its descendants' paths rewritten too?"""
    load_org_tree(session_factory, TREE)
    # Put db-thon (with its two cells) under xa-b instead of xa-a, renamed.
    text = """
units:
  - code: ha-tinh
    name: Đảng bộ tỉnh Hà Tĩnh
    kind: province
    children:
      - code: xa-b
        name: Đảng bộ xã B
        kind: commune
        children:
          - code: db-thon
            name: Đảng bộ thôn (sáp nhập)
            kind: committee
"""
    report = load_org_tree(session_factory, write(tmp_path, text))
    assert report.moved == 1
    tree = paths(session_factory)
    assert tree["db-thon"] == "/ha-tinh/xa-b/db-thon/"
    assert tree["cb-thon-1"] == "/ha-tinh/xa-b/db-thon/cb-thon-1/"
    assert tree["cb-thon-2"] == "/ha-tinh/xa-b/db-thon/cb-thon-2/"
    assert tree["cb-truong-hoc"] == "/ha-tinh/xa-a/cb-truong-hoc/"
    with session_factory() as session:
        unit = find_unit(session, "db-thon")
        xa_b = find_unit(session, "xa-b")
        assert unit is not None and xa_b is not None
        assert unit.name == "Đảng bộ thôn (sáp nhập)" and unit.parent_id == xa_b.id


def test_find_unit_by_name(session_factory: sessionmaker[Session]) -> None:
    """Is a unit found by its exact name, and an ambiguous name refused?"""
    load_org_tree(session_factory, TREE)
    with session_factory() as session:
        unit = find_unit(session, "chi bộ  trường học")
        assert unit is not None and unit.code == "cb-truong-hoc"
        assert find_unit(session, "Chi bộ không có") is None
        with pytest.raises(LookupError):
            find_unit(session, "Chi bộ thôn 1")


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("units:\n  - code: a\n    name: [unclosed\n", 4, None, "not valid YAML"),
        ("units:\n  - code: a\n    kind: cell\n", 2, "name", "missing"),
        (
            "units:\n  - code: a\n    name: A\n    kind: x\n    children:\n      - {code: A B, name: B, kind: cell}\n",
            6,
            "code",
            "invalid code",
        ),
        (
            "units:\n  - {code: a, name: A, kind: x, children: [{code: b, name: B, kind: y}]}\n"
            "  - {code: b, name: B2, kind: y}\n",
            3,
            "code",
            "duplicate code 'b'",
        ),
        ("units:\n  - {code: a, name: A, kind: x, chidren: []}\n", 2, "chidren", "unknown key"),
        ("unit:\n  - {code: a, name: A, kind: x}\n", None, "units", "top-level"),
    ],
    ids=["malformed", "missing-name", "invalid-code", "duplicate-code", "unknown-key", "no-units"],
)
def test_bad_tree_writes_nothing(
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    text: str,
    line: int | None,
    field: str | None,
    fragment: str,
) -> None:
    """Does a faulty tree file raise an error naming file, line and field, leaving the database untouched?"""
    load_org_tree(session_factory, TREE)
    before = paths(session_factory)
    path = write(tmp_path, text)
    with pytest.raises(OrgTreeError) as caught:
        load_org_tree(session_factory, path)
    error = caught.value
    assert (error.source, error.line, error.field) == (str(path), line, field)
    assert fragment in str(error) and str(path) in str(error)
    assert paths(session_factory) == before


def test_error_late_in_file_writes_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is nothing written when only the last unit of an otherwise good file is faulty?"""
    text = TREE.read_text(encoding="utf-8") + "  - {code: Bad Code, name: X, kind: y}\n"
    with pytest.raises(OrgTreeError):
        load_org_tree(session_factory, write(tmp_path, text))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OrgUnitRow)) == 0
