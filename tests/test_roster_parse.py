"""Pure roster rules: header recognition, row validation, import planning."""

from __future__ import annotations

import pytest

from diemcau.core.roster import (
    KnownMember,
    RawTable,
    UnitRef,
    column_of,
    fold_header,
    match_headers,
    normalise_card,
    plan_import,
    validate_roster,
)

UNITS = [
    UnitRef(1, "xa-a", "Đảng bộ xã A", "/xa-a/"),
    UnitRef(2, "cb-1", "Chi bộ thôn 1", "/xa-a/cb-1/"),
    UnitRef(3, "cb-2", "Chi bộ thôn 2", "/xa-a/cb-2/"),
    UnitRef(4, "xa-b", "Đảng bộ xã B", "/xa-b/"),
    UnitRef(5, "cb-b-1", "Chi bộ thôn 1", "/xa-b/cb-b-1/"),
]
HEADERS = ("STT", "Số thẻ đảng viên", "Họ và tên", "Chi bộ")


def table(*rows: tuple[str, str, str], headers: tuple[str, ...] = HEADERS) -> RawTable:
    data = tuple((i, dict(zip(headers, (str(i - 1), *row)))) for i, row in enumerate(rows, start=2))
    return RawTable(headers, data)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Số thẻ đảng viên", "card_number"),
        ("SỐ THẺ ĐẢNG VIÊN", "card_number"),
        ("so the dang vien", "card_number"),
        ("  Số   thẻ  ", "card_number"),
        ("Số thẻ ĐV", "card_number"),
        ("Mã đảng viên", "card_number"),
        ("card_number", "card_number"),
        ("Họ và tên", "full_name"),
        ("Ho va ten", "full_name"),
        ("HỌ TÊN", "full_name"),
        ("full_name", "full_name"),
        ("Chi bộ", "org_unit"),
        ("Mã chi bộ", "org_unit"),
        ("Đơn vị", "org_unit"),
        ("Tổ chức đảng", "org_unit"),
        ("to chuc dang", "org_unit"),
        ("org_unit", "org_unit"),
        ("STT", None),
        ("Ngày sinh", None),
    ],
)
def test_header_recognition(header: str, column: str | None) -> None:
    """Is each header a secretary would export recognised, with or without diacritics and in any case?"""
    assert column_of(header) == column


def test_fold_header_folds_d_stroke() -> None:
    """Does folding turn đ/Đ into d, which Unicode decomposition alone does not?"""
    assert fold_header("Đảng viên") == "dang vien"


def test_missing_columns_are_listed() -> None:
    """Does a header row without the card and unit columns name exactly those two as missing?"""
    found, errors = match_headers(["STT", "Họ và tên", "Ngày sinh"])
    assert found == {"full_name": "Họ và tên"}
    missing = {"columns": ["card_number", "org_unit"]}
    assert [(e.row, e.code, e.params) for e in errors] == [(1, "missing_columns", missing)]


def test_valid_rows_are_normalised() -> None:
    """Are card numbers stripped of spaces, names NFC and single-spaced, and units found by code or name?"""
    rows, errors = validate_roster(
        table(("79 0123 45", "  Nguyễn   Văn An ", "CB-1"), ("ab-9", "Trần Thị Bình", "Chi bộ thôn 2")), UNITS
    )
    assert errors == []
    assert [(r.row, r.card_number, r.full_name, r.unit.code) for r in rows] == [
        (2, "79012345", "Nguyễn Văn An", "cb-1"),
        (3, "AB-9", "Trần Thị Bình", "cb-2"),
    ]


def test_unit_name_compared_after_nfc_and_casefold() -> None:
    """Is a unit name typed in decomposed Unicode, other case and extra spaces still found?"""
    import unicodedata

    typed = unicodedata.normalize("NFD", "CHI BỘ  THÔN 2")
    rows, errors = validate_roster(table(("1", "A", typed)), UNITS)
    assert errors == [] and rows[0].unit.code == "cb-2"


def test_row_errors_are_placed_by_row_and_column() -> None:
    """Does each bad row give an error at its spreadsheet row (header = row 1) and the file's column header?"""
    rows, errors = validate_roster(
        table(
            ("1", "A", "cb-1"),
            ("", "B", "cb-1"),
            ("2", "", "cb-1"),
            ("3", "C", "cb-x"),
            ("1", "D", "cb-2"),
            ("4/5", "E", "cb-1"),
            ("6", "F", "Chi bộ thôn 1"),
            ("7", "G", ""),
        ),
        UNITS,
    )
    assert [r.row for r in rows] == [2]
    assert [(e.row, e.column, e.code) for e in errors] == [
        (3, "Số thẻ đảng viên", "empty_card"),
        (4, "Họ và tên", "empty_name"),
        (5, "Chi bộ", "unknown_org_unit"),
        (6, "Số thẻ đảng viên", "duplicate_card"),
        (7, "Số thẻ đảng viên", "invalid_card"),
        (8, "Chi bộ", "ambiguous_org_unit"),
        (9, "Chi bộ", "empty_org_unit"),
    ]
    assert errors[2].params == {"value": "cb-x"}
    assert errors[3].params == {"card": "1", "first_row": 2}
    assert errors[5].params["codes"] == "cb-1, cb-b-1"


def test_blank_rows_are_skipped_and_numbering_kept() -> None:
    """Are fully blank rows skipped without shifting the row numbers of later errors?"""
    _, errors = validate_roster(table(("1", "A", "cb-1"), ("", "", ""), ("2", "B", "nowhere")), UNITS)
    assert [(e.row, e.code) for e in errors] == [(4, "unknown_org_unit")]


def test_header_only_is_empty() -> None:
    """Is a table with only blank data rows an empty file?"""
    _, errors = validate_roster(table(("", "", "")), UNITS)
    assert [e.code for e in errors] == ["empty_file"]


def test_rows_outside_scope_are_refused() -> None:
    """Is a row naming a unit outside the importer's subtree an error?"""
    _, errors = validate_roster(table(("1", "A", "cb-1"), ("2", "B", "cb-b-1")), UNITS, scope_path="/xa-a/")
    assert [(e.row, e.code) for e in errors] == [(3, "out_of_scope")]


def known(card: str, name: str, unit: UnitRef, active: bool = True) -> KnownMember:
    return KnownMember(card, name, unit.id, unit.path, active)


def test_plan_sorts_every_member_into_one_group() -> None:
    """Does planning tell new, renamed, moved, unchanged and returning members apart?"""
    cb1, cb2, cbb = UNITS[1], UNITS[2], UNITS[4]
    rows, _ = validate_roster(
        table(("1", "A", "cb-1"), ("2", "B new", "cb-1"), ("3", "C", "cb-2"), ("4", "D", "cb-1"), ("5", "E", "cb-1")),
        UNITS,
    )
    members = [
        known("2", "B", cb1),
        known("3", "C", cb1),
        known("4", "D", cb1),
        known("5", "E", cb1, active=False),
        known("6", "F", cb1),
        known("7", "G", cbb),
    ]
    plan = plan_import(rows, members)
    assert [r.card_number for r in plan.to_create] == ["1"]
    assert [(c.card_number, c.renamed, c.moved) for c in plan.to_update] == [("2", True, False), ("3", False, True)]
    assert plan.to_update[1].org_unit_id == cb2.id
    assert plan.unchanged == ("4",)
    assert [c.card_number for c in plan.reactivations] == ["5"]
    assert plan.to_deactivate == ()


def test_deactivation_only_when_asked_and_within_scope() -> None:
    """Are missing members deactivated only with deactivate_missing, and only inside the scope?"""
    cb1, cbb = UNITS[1], UNITS[4]
    rows, _ = validate_roster(table(("1", "A", "cb-1")), UNITS)
    members = [known("1", "A", cb1), known("2", "B", cb1), known("3", "C", cbb), known("4", "D", cb1, active=False)]
    assert plan_import(rows, members).to_deactivate == ()
    assert plan_import(rows, members, deactivate_missing=True).to_deactivate == ("2", "3")
    scoped = plan_import(rows, members, deactivate_missing=True, scope_path="/xa-a/")
    assert scoped.to_deactivate == ("2",)


def test_normalise_card() -> None:
    """Are spaces (including non-breaking ones) removed and letters upper-cased in card numbers?"""
    assert normalise_card(" 79\u00a0012 ab ") == "79012AB"
