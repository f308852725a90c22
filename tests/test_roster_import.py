"""Importing roster files into the database, on SQLite and PostgreSQL: all or nothing, errors placed precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.db.orgs import load_org_tree
from diemcau.adapters.db.roster_store import RosterImportError, import_roster, render_errors
from diemcau.adapters.roster_files import read_roster_bytes

DATA = Path(__file__).parent / "data"
HEADER = "Số thẻ đảng viên,Họ và tên,Chi bộ"


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The database with the test org tree loaded and no members."""
    load_org_tree(session_factory, DATA / "org_tree.yaml")
    return session_factory


def members(factory: sessionmaker[Session]) -> dict[str, tuple[str, str, bool]]:
    """card → (name, unit code, active)."""
    query = select(MemberRow.card_number, MemberRow.full_name, OrgUnitRow.code, MemberRow.active).join(OrgUnitRow)
    with factory() as session:
        return {card: (name, code, active) for card, name, code, active in session.execute(query)}


def csv_file(tmp_path: Path, *lines: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def xlsx_file(tmp_path: Path, rows: list[list[object]], name: str = "roster.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def refused(factory: sessionmaker[Session], path: Path, **options: object) -> list[tuple[int | None, str | None, str]]:
    """Import expecting failure; check nothing changed and return the (row, column, code) of each error."""
    before = members(factory)
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path, **options)  # type: ignore[arg-type]
    assert members(factory) == before
    assert all(render_errors(caught.value.errors))  # every code has a message
    return [(e.row, e.column, e.code) for e in caught.value.errors]


def test_good_csv(factory: sessionmaker[Session]) -> None:
    """Does a Vietnamese CSV with extra columns import every member into the named cells?"""
    report = import_roster(factory, DATA / "roster_vi.csv")
    assert (report.created, report.unchanged) == (3, 0)
    assert members(factory) == {
        "79.012345": ("Nguyễn Văn An", "cb-thon-1", True),
        "79.012346": ("Trần Thị Bình", "cb-thon-2", True),
        "79012347": ("Lê Văn Cường", "cb-truong-hoc", True),
    }


def test_good_xlsx_with_title_row_and_numeric_cards(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Does an XLSX with a title row above the header and card numbers typed as numbers import correctly?"""
    path = xlsx_file(
        tmp_path,
        [
            ["DANH SÁCH ĐẢNG VIÊN ĐẢNG BỘ XÃ A"],
            ["STT", "SỐ THẺ ĐẢNG VIÊN", "Họ tên", "Mã chi bộ"],
            [1, 12345678, "Phạm Văn Dũng", "cb-thon-1"],
            [2, 12345679.0, "Hoàng Thị Em", "Chi bộ Trường học"],
            [None, None, None, None],
            [3, "AB-1", "Đỗ Văn Giang", "CB-THON-2"],
        ],
    )
    report = import_roster(factory, path)
    assert report.created == 3
    assert members(factory) == {
        "12345678": ("Phạm Văn Dũng", "cb-thon-1", True),
        "12345679": ("Hoàng Thị Em", "cb-truong-hoc", True),
        "AB-1": ("Đỗ Văn Giang", "cb-thon-2", True),
    }


def test_semicolon_csv_with_bom_detected_by_content(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a semicolon-separated CSV with a BOM read, even saved under an .xlsx name?"""
    path = tmp_path / "roster.xlsx"
    path.write_bytes("\ufeffSố thẻ;Họ và tên;Chi bộ\n1;A;cb-b-1\n".encode())
    assert import_roster(factory, path).created == 1


def test_xlsx_detected_by_content(tmp_path: Path) -> None:
    """Is an XLSX read as a workbook even when its name says .csv?"""
    path = xlsx_file(tmp_path, [["Số thẻ", "Họ và tên", "Chi bộ"], ["1", "A", "cb-b-1"]], name="roster.csv")
    table = read_roster_bytes(path.read_bytes())
    assert table.rows == ((2, {"Số thẻ": "1", "Họ và tên": "A", "Chi bộ": "cb-b-1"}),)


def test_reimport_is_idempotent(factory: sessionmaker[Session]) -> None:
    """Does importing the same file twice leave everything unchanged the second time?"""
    import_roster(factory, DATA / "roster_vi.csv")
    before = members(factory)
    report = import_roster(factory, DATA / "roster_vi.csv", deactivate_missing=True)
    assert (report.created, report.updated, report.moved, report.deactivated, report.unchanged) == (0, 0, 0, 0, 3)
    assert members(factory) == before


def test_rename_and_move(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Are a renamed member and a member moved to another cell updated in place?"""
    import_roster(factory, DATA / "roster_vi.csv")
    path = csv_file(
        tmp_path,
        HEADER,
        "79.012345,Nguyễn Văn Ân,cb-thon-1",
        "79.012346,Trần Thị Bình,cb-b-1",
        "79012347,Lê Văn Cường,cb-truong-hoc",
    )
    report = import_roster(factory, path)
    assert (report.updated, report.moved, report.unchanged) == (2, 1, 1)
    assert members(factory)["79.012345"] == ("Nguyễn Văn Ân", "cb-thon-1", True)
    assert members(factory)["79.012346"] == ("Trần Thị Bình", "cb-b-1", True)


def test_deactivate_missing_only_when_asked_and_within_scope(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Are absent members deactivated only when asked, and a cell's import never touches other cells?"""
    everyone = csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-thon-1", "3,C,cb-b-1", name="all.csv")
    import_roster(factory, everyone)
    one_cell = csv_file(tmp_path, HEADER, "1,A,cb-thon-1", name="cell.csv")
    assert import_roster(factory, one_cell).deactivated == 0
    assert all(active for _, _, active in members(factory).values())
    report = import_roster(factory, one_cell, deactivate_missing=True, scope_path="/ha-tinh/xa-a/db-thon/cb-thon-1/")
    assert report.deactivated == 1
    assert {card: active for card, (_, _, active) in members(factory).items()} == {"1": True, "2": False, "3": True}


def test_dry_run_writes_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Does a dry run report what would happen without writing it?"""
    report = import_roster(factory, DATA / "roster_vi.csv", dry_run=True)
    assert (report.created, report.dry_run) == (3, True)
    assert members(factory) == {}


def test_reactivation(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a deactivated member who is back in the file made active again?"""
    import_roster(factory, csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-thon-1", name="a.csv"))
    import_roster(factory, csv_file(tmp_path, HEADER, "1,A,cb-thon-1", name="b.csv"), deactivate_missing=True)
    assert members(factory)["2"][2] is False
    report = import_roster(factory, csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-thon-2", name="c.csv"))
    assert (report.reactivated, report.unchanged) == (1, 1)
    assert members(factory)["2"] == ("B", "cb-thon-2", True)


def test_scope_refuses_other_units(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a secretary refused rows for another cell, and taking a member from another cell?"""
    import_roster(factory, csv_file(tmp_path, HEADER, "9,Z,cb-b-1", name="a.csv"))
    path = csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-b-1", name="b.csv")
    assert refused(factory, path, scope_path="/ha-tinh/xa-a/") == [(3, "Chi bộ", "out_of_scope")]
    path = csv_file(tmp_path, HEADER, "9,Z,cb-thon-1", name="c.csv")
    assert refused(factory, path, scope_path="/ha-tinh/xa-a/") == [(2, None, "member_outside_scope")]


def test_unknown_org_unit_imports_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is nothing imported when one row names an unknown cell, and is the message precise?"""
    path = csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-thon-1", "3,C,cb-thon-1", "4,D,cb-x")
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    assert render_errors(caught.value.errors) == ["Dòng 5, cột «Chi bộ»: không có tổ chức đảng «cb-x» trong hệ thống."]
    assert render_errors(caught.value.errors, "en") == ["Row 5, column “Chi bộ”: there is no org unit “cb-x”."]
    assert members(factory) == {}


def test_duplicate_card_names_both_rows(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a card number listed twice refused, naming both rows?"""
    path = csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,B,cb-thon-1", "1,A lần hai,cb-thon-2")
    assert refused(factory, path) == [(4, "Số thẻ đảng viên", "duplicate_card")]
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    assert "dòng 2" in render_errors(caught.value.errors)[0]


def test_empty_name(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a row without a name refused at its row and the name column?"""
    assert refused(factory, csv_file(tmp_path, HEADER, "1,A,cb-thon-1", "2,,cb-thon-1")) == [
        (3, "Họ và tên", "empty_name")
    ]


@pytest.mark.parametrize("encoding", ["cp1258", "latin-1"])
def test_wrong_encoding(factory: sessionmaker[Session], tmp_path: Path, encoding: str) -> None:
    """Is a CSV saved in a legacy encoding refused at the first bad line, telling the user to save as CSV UTF-8?"""
    path = csv_file(
        tmp_path, "So the,Ho va ten,Chi bo", "1,Tran Thi Binh,cb-thon-1", "2,Lê Bá Tú,cb-thon-1", encoding=encoding
    )
    assert refused(factory, path) == [(3, None, "bad_encoding")]
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    message = render_errors(caught.value.errors)[0]
    assert message.startswith("Dòng 3: ") and "CSV UTF-8" in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "unknown_format"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "unknown_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "xls"),
        (bytes(range(256)) * 8, "unknown_format"),
    ],
    ids=["png", "pdf", "xls", "random"],
)
def test_not_a_roster_file(factory: sessionmaker[Session], tmp_path: Path, content: bytes, reason: str) -> None:
    """Is a PNG, PDF, legacy .xls or random bytes refused as not a roster file?"""
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    assert refused(factory, path) == [(None, None, "not_a_roster_file")]
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    assert caught.value.errors[0].params["reason"] == reason


def test_corrupt_xlsx(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a truncated XLSX upload refused with a clear message rather than a traceback?"""
    good = xlsx_file(tmp_path, [["Số thẻ", "Họ và tên", "Chi bộ"], ["1", "A", "cb-thon-1"]])
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert refused(factory, path) == [(None, None, "not_a_roster_file")]
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    assert "bị hỏng" in render_errors(caught.value.errors)[0]


def test_zip_that_is_not_a_workbook(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a zip without xl/ entries (a .docx, say) refused as not a roster file?"""
    shutil.make_archive(str(tmp_path / "bundle"), "zip", DATA)
    assert refused(factory, tmp_path / "bundle.zip") == [(None, None, "not_a_roster_file")]


@pytest.mark.parametrize("content", [b"", b"  \r\n\r\n", HEADER.encode() + b"\r\n", HEADER.encode() + b"\r\n,,\r\n"])
def test_empty_or_header_only(factory: sessionmaker[Session], tmp_path: Path, content: bytes) -> None:
    """Is an empty file, or one with only the header row, refused as empty?"""
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    assert refused(factory, path) == [(None, None, "empty_file")]


def test_header_only_xlsx(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Is a workbook with only the header row refused as empty?"""
    assert refused(factory, xlsx_file(tmp_path, [["Số thẻ", "Họ và tên", "Chi bộ"]])) == [(None, None, "empty_file")]


def test_missing_columns(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Does the error name the missing column in words the secretary knows?"""
    path = csv_file(tmp_path, "STT,Họ và tên,Chi bộ", "1,A,cb-thon-1")
    assert refused(factory, path) == [(1, None, "missing_columns")]
    with pytest.raises(RosterImportError) as caught:
        import_roster(factory, path)
    assert render_errors(caught.value.errors)[0].startswith("Dòng 1: thiếu cột «Số thẻ đảng viên».")
