"""Read a roster file (CSV or XLSX, told apart by content) into a :class:`~diemcau.core.roster.RawTable`.

Every failure a user can cause (wrong encoding, a PDF, a truncated upload, an empty sheet) becomes a
:class:`~diemcau.core.roster.RosterImportError`, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from diemcau.core.roster import RawTable, RosterError, RosterImportError, header_score

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH_ROWS = 10  # a title row or two ("DANH SÁCH ĐẢNG VIÊN...") often sits above the header
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)
# Files people pick by mistake whose first kilobytes can look like text: PDF, PNG, JPEG, GIF, RTF.
_OTHER_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf")


def _fail(code: str, row: int | None = None, **params: object) -> RosterImportError:
    return RosterImportError([RosterError(row, None, code, dict(params))])


def read_roster_file(path: Path) -> RawTable:
    """Read the roster at ``path``; raises ``RosterImportError`` when it is not a usable roster file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _fail("not_a_roster_file", reason="unreadable", detail=str(exc)) from None
    return read_roster_bytes(data)


def read_roster_bytes(data: bytes) -> RawTable:
    """Read roster content (an upload, say): XLSX when it is a zip with ``xl/`` entries, else CSV text."""
    if not data.strip():
        raise _fail("empty_file")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC):
        raise _fail("not_a_roster_file", reason="xls")
    if data.startswith(_OTHER_MAGICS):
        raise _fail("not_a_roster_file", reason="unknown_format")
    return _read_csv(_decode(data))


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > len(sample) // 100


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text" export
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _looks_binary(data.decode("latin-1")):
                raise _fail("not_a_roster_file", reason="unknown_format") from None
            raise _fail("bad_encoding", row=data[: exc.start].count(b"\n") + 1) from None
    if _looks_binary(text):
        raise _fail("not_a_roster_file", reason="unknown_format")
    return text


def _sniff_delimiter(text: str) -> str:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=first_line.count)


def _read_csv(text: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        records = [[cell.strip() for cell in record] for record in reader]
    except csv.Error:
        raise _fail("not_a_roster_file", reason="unknown_format") from None
    return _table(enumerate(records, start=1))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a card number typed into a number cell: 12345678.0 → "12345678"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes) -> RawTable:
    # openpyxl is imported here so that CSV-only callers never pay for it.
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not any(name.startswith("xl/") for name in archive.namelist()):
                raise _fail("not_a_roster_file", reason="unknown_format")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # Read-only sheets yield a filler tuple for each missing row, so position is the row number.
            values = sheet.iter_rows(min_row=1, values_only=True)
            records = [(number, [_cell_text(v) for v in row]) for number, row in enumerate(values, start=1)]
        finally:
            workbook.close()
    except RosterImportError:
        raise
    except Exception:  # zipfile.BadZipFile, KeyError, lxml/ElementTree errors: all mean a damaged workbook
        raise _fail("not_a_roster_file", reason="corrupt_xlsx") from None
    return _table(records)


def _table(records: Iterable[tuple[int, Sequence[str]]]) -> RawTable:
    """Find the header row (the first of the top rows naming 2+ roster columns, else the first non-blank)."""
    numbered = [(number, list(cells)) for number, cells in records]
    non_blank = [(number, cells) for number, cells in numbered if any(cells)]
    if not non_blank:
        raise _fail("empty_file")
    candidates = non_blank[:HEADER_SEARCH_ROWS]
    header_number, headers = next(((n, c) for n, c in candidates if header_score(c) >= 2), non_blank[0])
    rows = tuple(
        (number, {header: cells[i] if i < len(cells) else "" for i, header in enumerate(headers)})
        for number, cells in numbered
        if number > header_number
    )
    return RawTable(tuple(headers), rows, header_row=header_number)
