"""Reading and writing lecture material rows (``lecture_materials``); the files are ``adapters.material_files``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.models_materials import LectureMaterialRow
from diemcau.core.material import MaterialKind, stored_file_name
from diemcau.materials.errors import MaterialError

PROCESSING, READY = "processing", "ready"  # the other states are refusal codes of the extraction (``too_big``, …)


@dataclass(frozen=True)
class MaterialRecord:
    """One attached material as stored."""

    lecture_id: str
    name: str
    kind: str
    size: int
    sha256: str
    pages: int
    text_chars: int
    uploaded_by: str
    uploaded_at: dt.datetime | None = None
    state: str = READY

    @property
    def processing(self) -> bool:
        """Is the background job still to read its text?"""
        return self.state == PROCESSING

    @property
    def stored_name(self) -> str:
        """The file's name in the lecture's materials folder."""
        return stored_file_name(self.name, self.sha256, MaterialKind(self.kind))

    @property
    def has_text(self) -> bool:
        """Did extraction find text to search (not a scan, not cut off by its bounds)?"""
        return self.state == READY and self.text_chars > 0


def _record(row: LectureMaterialRow) -> MaterialRecord:
    return MaterialRecord(
        row.lecture_id,
        row.name,
        row.kind,
        row.size,
        row.sha256,
        row.pages,
        row.text_chars,
        row.uploaded_by,
        row.uploaded_at,
        row.state,
    )


def _row(session: Session, lecture_id: str, name: str) -> LectureMaterialRow | None:
    table = LectureMaterialRow
    query = select(table).where(table.lecture_id == lecture_id, table.name == name)
    return session.scalars(query).one_or_none()


def list_materials(factory: sessionmaker[Session], lecture_id: str) -> list[MaterialRecord]:
    """The materials of a lecture, by name."""
    with factory() as session:
        query = select(LectureMaterialRow).where(LectureMaterialRow.lecture_id == lecture_id)
        return [_record(row) for row in session.scalars(query.order_by(LectureMaterialRow.name))]


def find_material(factory: sessionmaker[Session], lecture_id: str, name: str) -> MaterialRecord | None:
    """One material of a lecture by name, or ``None``."""
    with factory() as session:
        row = _row(session, lecture_id, name)
        return None if row is None else _record(row)


def lectures_with_materials(factory: sessionmaker[Session]) -> set[str]:
    """The ids of the lectures that have at least one material."""
    with factory() as session:
        return set(session.scalars(select(LectureMaterialRow.lecture_id).distinct()))


def save_material(
    factory: sessionmaker[Session], record: MaterialRecord, *, replace: bool, before_commit: Callable[[], None]
) -> MaterialRecord | None:
    """Insert ``record`` (or, with ``replace``, overwrite the material of that name); returns the one replaced.

    ``before_commit`` runs once the row is written but not committed (it puts the file in place): if it fails,
    nothing is committed. A name already taken without ``replace`` is ``MaterialError("duplicate")``.
    """
    with factory() as session:
        try:
            with session.begin():
                row = _row(session, record.lecture_id, record.name)
                previous = None if row is None else _record(row)
                if row is not None and not replace:
                    raise MaterialError("duplicate", name=record.name)
                row = row or LectureMaterialRow(lecture_id=record.lecture_id, name=record.name)
                for field in ("kind", "size", "sha256", "pages", "text_chars", "uploaded_by", "state"):
                    setattr(row, field, getattr(record, field))
                row.uploaded_at = record.uploaded_at or utcnow()
                session.add(row)
                session.flush()  # a concurrent upload of the same name fails here, before the file moves
                before_commit()
        except IntegrityError:
            taken = find_material(factory, record.lecture_id, record.name) is not None  # else: no such lecture
            raise MaterialError("duplicate" if taken else "lecture_not_found", name=record.name) from None
    return previous


def delete_material(factory: sessionmaker[Session], lecture_id: str, name: str) -> MaterialRecord | None:
    """Delete a material's row; returns what it held, or ``None`` when there was none."""
    with factory() as session, session.begin():
        row = _row(session, lecture_id, name)
        if row is None:
            return None
        record = _record(row)
        session.delete(row)
    return record


def record_extraction(
    factory: sessionmaker[Session], lecture_id: str, name: str, sha256: str, state: str, pages: int, text_chars: int
) -> MaterialRecord | None:
    """Write what the extraction found on the material ``name`` — if it still holds the file ``sha256`` (a
    replacement uploaded meanwhile gets its own job); returns the updated record, ``None`` when superseded."""
    with factory() as session, session.begin():
        row = _row(session, lecture_id, name)
        if row is None or row.sha256 != sha256:
            return None
        row.state, row.pages, row.text_chars = state, pages, text_chars
        return _record(row)


def processing_materials(
    factory: sessionmaker[Session], uploaded_before: dt.datetime | None = None
) -> list[MaterialRecord]:
    """Every material whose text is still to be read, optionally only those uploaded before an aware moment (the
    workers' recovery sweeps queue their jobs again)."""
    query = select(LectureMaterialRow).where(LectureMaterialRow.state == PROCESSING)
    if uploaded_before is not None:
        query = query.where(LectureMaterialRow.uploaded_at < uploaded_before.astimezone(dt.UTC).replace(tzinfo=None))
    with factory() as session:
        return [_record(row) for row in session.scalars(query)]
