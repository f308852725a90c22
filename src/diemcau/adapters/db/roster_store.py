"""Import a member roster file into the database: read, validate, plan, apply, all or nothing.

The stages are the ones of :mod:`diemcau.core.roster`, in order:
read the file → validate rows against the org units → check the importer's scope → plan → apply.
Every error of a stage is collected before stopping, so the user fixes the whole file in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import MemberRow, OrgUnitRow
from diemcau.adapters.roster_files import read_roster_file
from diemcau.core.roster import (
    ImportPlan,
    KnownMember,
    RosterError,
    RosterImportError,
    UnitRef,
    check_scope,
    plan_import,
    validate_roster,
)
from diemcau.i18n import t

__all__ = ["RosterImportError", "RosterReport", "import_roster", "render_errors"]


@dataclass(frozen=True)
class RosterReport:
    """What an import did (or, with ``dry_run``, would do), in member counts.

    ``updated`` counts active members whose name and/or unit changed; ``moved`` is those of them whose unit
    changed. A reactivated member counts only as ``reactivated``.
    """

    created: int = 0
    updated: int = 0
    moved: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    dry_run: bool = False


def _units(session: Session) -> list[UnitRef]:
    rows = session.execute(select(OrgUnitRow.id, OrgUnitRow.code, OrgUnitRow.name, OrgUnitRow.path))
    return [UnitRef(*row) for row in rows]


def _known_members(session: Session) -> list[KnownMember]:
    query = select(
        MemberRow.card_number, MemberRow.full_name, MemberRow.org_unit_id, OrgUnitRow.path, MemberRow.active
    ).join(OrgUnitRow, MemberRow.org_unit_id == OrgUnitRow.id)
    return [KnownMember(*row) for row in session.execute(query)]


def _apply(session: Session, plan: ImportPlan) -> None:
    session.add_all(
        MemberRow(card_number=r.card_number, full_name=r.full_name, org_unit_id=r.unit.id, active=True)
        for r in plan.to_create
    )
    for change in (*plan.to_update, *plan.reactivations):
        session.execute(
            update(MemberRow)
            .where(MemberRow.card_number == change.card_number)
            .values(full_name=change.full_name, org_unit_id=change.org_unit_id, active=True)
        )
    if plan.to_deactivate:
        session.execute(update(MemberRow).where(MemberRow.card_number.in_(plan.to_deactivate)).values(active=False))


def import_roster(
    factory: sessionmaker[Session],
    path: Path,
    *,
    deactivate_missing: bool = False,
    scope_path: str | None = None,
    dry_run: bool = False,
) -> RosterReport:
    """Import the roster at ``path`` in one transaction; ``RosterImportError`` (nothing written) on any error.

    ``scope_path`` limits the import to one subtree (a secretary's cell): rows naming other units are errors,
    and ``deactivate_missing`` only deactivates members within it. ``dry_run`` reports without writing.
    """
    table = read_roster_file(path)
    with transaction(factory) as session:
        rows, errors = validate_roster(table, _units(session), scope_path)
        if errors:
            raise RosterImportError(errors)
        known = _known_members(session)
        errors = check_scope(rows, known, scope_path)
        if errors:
            raise RosterImportError(errors)
        plan = plan_import(rows, known, deactivate_missing=deactivate_missing, scope_path=scope_path)
        if not dry_run:
            _apply(session, plan)
    return RosterReport(
        created=len(plan.to_create),
        updated=len(plan.to_update),
        moved=sum(change.moved for change in plan.to_update),
        deactivated=len(plan.to_deactivate),
        reactivated=len(plan.reactivations),
        unchanged=len(plan.unchanged),
        dry_run=dry_run,
    )


def _message_key(error: RosterError) -> str:
    reason = error.params.get("reason")
    return f"roster.{error.code}_{reason}" if reason else f"roster.{error.code}"


def _params(error: RosterError, language: str) -> dict[str, object]:
    params = dict(error.params)
    if "columns" in params:
        labels = (t(f"roster.column_{column}", language) for column in params["columns"])  # type: ignore[union-attr]
        params["columns"] = ", ".join(f"«{label}»" for label in labels)
    return params


def render_errors(errors: Sequence[RosterError], language: str = "vi") -> list[str]:
    """One message per error, placed by row and column, in ``language`` (Vietnamese by default)."""
    messages = []
    for error in errors:
        body = t(_message_key(error), language, **_params(error, language))
        if error.row is not None and error.column:
            where = t("roster.at_row_column", language, row=error.row, column=error.column)
        elif error.row is not None:
            where = t("roster.at_row", language, row=error.row)
        else:
            where = ""
            body = body[:1].upper() + body[1:]
        messages.append(f"{where}{body}")
    return messages
