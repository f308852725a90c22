"""The member roster a secretary or committee exports from a spreadsheet: headers, rows, and the import plan.

Pure rules only. An adapter reads the file into a :class:`RawTable`; :func:`validate_roster` turns it into
:class:`RosterRow` values (or :class:`RosterError` values with spreadsheet row numbers: the header is row 1);
:func:`plan_import` compares those rows with the members already known and says what to create, update,
deactivate and reactivate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from diemcau.core.orgtree import is_within

COLUMNS = ("card_number", "full_name", "org_unit")
CARD_PATTERN = re.compile(r"^[0-9A-Za-z.\-]{1,32}$")
MAX_NAME_LENGTH = 255

# Folded spellings (see fold_header) of the headers secretaries actually use, per column.
HEADER_ALIASES: Mapping[str, frozenset[str]] = {
    "card_number": frozenset({"so the dang vien", "so the", "so the dv", "ma dang vien", "ma dv", "card number"}),
    "full_name": frozenset({"ho va ten", "ho ten", "ho va ten dang vien", "full name"}),
    "org_unit": frozenset({"chi bo", "ma chi bo", "ten chi bo", "don vi", "to chuc dang", "org unit"}),
}


@dataclass(frozen=True)
class RosterError:
    """One problem in a roster file, placed as the user sees it: spreadsheet row and column header."""

    row: int | None
    column: str | None
    code: str
    params: dict[str, object] = field(default_factory=dict, hash=False)


class RosterImportError(Exception):
    """A roster cannot be imported; ``errors`` says every reason found. Nothing was written."""

    def __init__(self, errors: Sequence[RosterError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"row {e.row} column {e.column}: {e.code} {e.params}" for e in self.errors))


@dataclass(frozen=True)
class RawTable:
    """A roster file as read: its header cells and its data rows ``(row_number, {header: value})``."""

    headers: tuple[str, ...]
    rows: tuple[tuple[int, Mapping[str, str]], ...]
    header_row: int = 1


@dataclass(frozen=True)
class UnitRef:
    """An org unit a roster row may name, by code or by exact name."""

    id: int
    code: str
    name: str
    path: str


@dataclass(frozen=True)
class RosterRow:
    """One valid roster line: a member's normalised card number, name and org unit."""

    row: int
    card_number: str
    full_name: str
    unit: UnitRef


@dataclass(frozen=True)
class KnownMember:
    """A member already in the database, as planning needs it."""

    card_number: str
    full_name: str
    org_unit_id: int
    org_path: str
    active: bool


@dataclass(frozen=True)
class MemberChange:
    """An existing member whose record the roster changes (name, unit and/or active flag)."""

    card_number: str
    full_name: str
    org_unit_id: int
    renamed: bool
    moved: bool


@dataclass(frozen=True)
class ImportPlan:
    """What applying a roster does: every member falls in exactly one group."""

    to_create: tuple[RosterRow, ...] = ()
    to_update: tuple[MemberChange, ...] = ()
    unchanged: tuple[str, ...] = ()
    to_deactivate: tuple[str, ...] = ()
    reactivations: tuple[MemberChange, ...] = ()


def fold_header(text: str) -> str:
    """Fold a header for matching: no tone marks, đ→d, any case, punctuation and spacing ignored."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return re.sub(r"[\W_]+", " ", stripped.casefold()).strip()


def normalise_name(text: str) -> str:
    """A name as stored: NFC, single spaces, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_key(text: str) -> str:
    """The key two unit names are compared by: NFC, whitespace collapsed, casefolded."""
    return normalise_name(text).casefold()


def normalise_card(text: str) -> str:
    """A card number as stored: spaces removed, letters upper-cased."""
    return "".join(text.split()).upper()


def column_of(header: str) -> str | None:
    """The roster column a header cell names, or ``None`` for a column the import ignores (STT, Ngày sinh...)."""
    folded = fold_header(header)
    return next((column for column, aliases in HEADER_ALIASES.items() if folded in aliases), None)


def match_headers(headers: Sequence[str], header_row: int = 1) -> tuple[dict[str, str], list[RosterError]]:
    """Map each roster column to the file's header for it; a ``missing_columns`` error lists those absent."""
    found: dict[str, str] = {}
    for header in headers:
        column = column_of(header)
        if column is not None and column not in found:
            found[column] = header
    missing = [column for column in COLUMNS if column not in found]
    errors = [RosterError(header_row, None, "missing_columns", {"columns": missing})] if missing else []
    return found, errors


class UnitIndex:
    """Resolves a roster cell to an org unit by code (any case) or by exact name."""

    def __init__(self, units: Sequence[UnitRef]) -> None:
        self._by_code = {unit.code: unit for unit in units}
        self._by_name: dict[str, list[UnitRef]] = {}
        for unit in units:
            self._by_name.setdefault(name_key(unit.name), []).append(unit)

    def resolve(self, cell: str) -> UnitRef | list[UnitRef]:
        """The unit named by ``cell``; a list of candidates when the name is ambiguous (empty: unknown)."""
        unit = self._by_code.get(cell.strip().lower())
        if unit is not None:
            return unit
        candidates = self._by_name.get(name_key(cell), [])
        return candidates[0] if len(candidates) == 1 else candidates


def _is_blank(cells: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    # Only the roster columns count: templates often come with STT pre-numbered on empty lines.
    return all(not (cells.get(header) or "").strip() for header in headers.values())


def _validate_row(
    number: int, cells: Mapping[str, str], headers: Mapping[str, str], index: UnitIndex
) -> RosterRow | list[RosterError]:
    errors: list[RosterError] = []
    raw_card = cells.get(headers["card_number"], "") or ""
    card = normalise_card(raw_card)
    if not card:
        errors.append(RosterError(number, headers["card_number"], "empty_card"))
    elif not CARD_PATTERN.match(card):
        errors.append(RosterError(number, headers["card_number"], "invalid_card", {"value": raw_card.strip()}))
    name = normalise_name(cells.get(headers["full_name"], "") or "")
    if not name:
        errors.append(RosterError(number, headers["full_name"], "empty_name"))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(RosterError(number, headers["full_name"], "name_too_long", {"max": MAX_NAME_LENGTH}))
    cell = normalise_name(cells.get(headers["org_unit"], "") or "")
    unit = index.resolve(cell) if cell else []
    if not cell:
        errors.append(RosterError(number, headers["org_unit"], "empty_org_unit"))
    elif isinstance(unit, list) and not unit:
        errors.append(RosterError(number, headers["org_unit"], "unknown_org_unit", {"value": cell}))
    elif isinstance(unit, list):
        codes = ", ".join(sorted(u.code for u in unit))
        errors.append(RosterError(number, headers["org_unit"], "ambiguous_org_unit", {"value": cell, "codes": codes}))
    if errors or isinstance(unit, list):
        return errors
    return RosterRow(number, card, name, unit)


def validate_roster(
    table: RawTable, units: Sequence[UnitRef], scope_path: str | None = None
) -> tuple[list[RosterRow], list[RosterError]]:
    """Check every row of ``table`` against the org units; return the valid rows and all errors found.

    With ``scope_path``, a row naming a unit outside that subtree is an ``out_of_scope`` error.
    """
    headers, errors = match_headers(table.headers, table.header_row)
    if errors:
        return [], errors
    index = UnitIndex(units)
    rows: list[RosterRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in table.rows:
        if _is_blank(cells, headers):
            continue
        result = _validate_row(number, cells, headers, index)
        if isinstance(result, list):
            errors.extend(result)
            continue
        if result.card_number in first_row_of:
            params = {"card": result.card_number, "first_row": first_row_of[result.card_number]}
            errors.append(RosterError(number, headers["card_number"], "duplicate_card", params))
            continue
        if scope_path is not None and not is_within(result.unit.path, scope_path):
            errors.append(RosterError(number, headers["org_unit"], "out_of_scope", {"value": result.unit.code}))
            continue
        first_row_of[result.card_number] = number
        rows.append(result)
    if not rows and not errors:
        errors.append(RosterError(None, None, "empty_file"))
    return rows, errors


def check_scope(rows: Sequence[RosterRow], known: Sequence[KnownMember], scope_path: str | None) -> list[RosterError]:
    """Errors for rows that would take a member away from a unit outside ``scope_path``."""
    if scope_path is None:
        return []
    by_card = {member.card_number: member for member in known}
    errors = []
    for row in rows:
        member = by_card.get(row.card_number)
        if member is not None and not is_within(member.org_path, scope_path):
            params = {"card": row.card_number, "unit": member.org_path.strip("/").rsplit("/", 1)[-1]}
            errors.append(RosterError(row.row, None, "member_outside_scope", params))
    return errors


def plan_import(
    rows: Sequence[RosterRow],
    known: Sequence[KnownMember],
    *,
    deactivate_missing: bool = False,
    scope_path: str | None = None,
) -> ImportPlan:
    """Compare valid roster rows with the known members and decide what to do with each.

    Active members absent from the file are deactivated only when ``deactivate_missing`` is set, and only
    within ``scope_path`` when given, so importing one cell's list never touches another cell.
    """
    by_card = {member.card_number: member for member in known}
    create: list[RosterRow] = []
    update: list[MemberChange] = []
    unchanged: list[str] = []
    reactivate: list[MemberChange] = []
    for row in rows:
        member = by_card.get(row.card_number)
        if member is None:
            create.append(row)
            continue
        renamed = member.full_name != row.full_name
        moved = member.org_unit_id != row.unit.id
        change = MemberChange(row.card_number, row.full_name, row.unit.id, renamed, moved)
        if not member.active:
            reactivate.append(change)
        elif renamed or moved:
            update.append(change)
        else:
            unchanged.append(row.card_number)
    deactivate: list[str] = []
    if deactivate_missing:
        in_file = {row.card_number for row in rows}
        deactivate = [
            m.card_number
            for m in known
            if m.active and m.card_number not in in_file and (scope_path is None or is_within(m.org_path, scope_path))
        ]
    return ImportPlan(tuple(create), tuple(update), tuple(unchanged), tuple(sorted(deactivate)), tuple(reactivate))


def header_score(cells: Sequence[str]) -> int:
    """How many distinct roster columns a row of cells names (used to find the header row under a title)."""
    return len({column for cell in cells if (column := column_of(cell)) is not None})
