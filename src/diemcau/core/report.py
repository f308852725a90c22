"""The official report (Báo cáo kết quả học tập, quán triệt nghị quyết): totals, rows, members not done.

Pure: it takes each enrolled member's derived status and the org units, and returns a ``Report`` that the
XLSX and PDF renderers lay out.

The counting rule (docs/reports.md): every enrolled member within the reporting unit is counted exactly once,
in one row: the row of the direct child unit whose subtree holds the unit the roster places them in, or, for
members attached to the reporting unit itself (a commune's committee members, say), a row of their own. The rows
therefore add up to the total, column by column. A staff member (secretary, committee member, trainer, admin)
who is enrolled, i.e. an active member within the course's audience, is counted where the roster places them,
like anyone else; a staff account outside the audience is not counted. Percentages are per row, slowest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diemcau.core.course import CourseStatus
from diemcau.core.orgtree import OrgUnit, is_within


@dataclass(frozen=True)
class Missing:
    """One unmet condition as the report names it: ``kind`` is lecture, quiz, essay or content; ``title`` the
    lecture's or quiz's title (empty for the others)."""

    kind: str
    title: str = ""


def name_missing(items: Sequence[str], titles: Mapping[str, str]) -> tuple[Missing, ...]:
    """``("lecture:l1", "essay")`` → named conditions, ``titles`` keyed by the item (``"lecture:l1"``); an item
    without a known title keeps its id rather than vanishing."""
    named = []
    for item in items:
        kind, _, ident = item.partition(":")
        named.append(Missing(kind, titles.get(item, ident)))
    return tuple(named)


@dataclass(frozen=True)
class MemberStatus:
    """One enrolled member's standing in the course."""

    card_number: str
    full_name: str
    unit: OrgUnit
    status: CourseStatus
    missing: tuple[Missing, ...] = ()


@dataclass(frozen=True)
class UnitSummary:
    """Completion of one row: a direct child's whole subtree, or (``direct``) the members attached to the
    reporting unit itself."""

    unit: OrgUnit
    enrolled: int
    completed: int
    in_progress: int
    not_started: int
    overdue: int
    direct: bool = False

    @property
    def percent(self) -> float:
        return round(100.0 * self.completed / self.enrolled, 1) if self.enrolled else 0.0


@dataclass(frozen=True)
class Report:
    """Everything the official report shows."""

    unit: OrgUnit
    course_id: str
    course_title: str
    deadline: dt.date | None
    generated_on: dt.date
    total: UnitSummary
    sub_units: tuple[UnitSummary, ...]
    not_done: tuple[MemberStatus, ...]
    direct: UnitSummary | None = None  # members attached to ``unit`` itself, when there are any

    @property
    def rows(self) -> tuple[UnitSummary, ...]:
        """The rows above the total, which add up to it: each sub-unit, then the unit's own members."""
        return self.sub_units + ((self.direct,) if self.direct else ())


def summarise(unit: OrgUnit, members: Sequence[MemberStatus], direct: bool = False) -> UnitSummary:
    """Counts by status of exactly these members."""
    count = {status: sum(1 for m in members if m.status == status) for status in CourseStatus}
    return UnitSummary(
        unit,
        len(members),
        count[CourseStatus.COMPLETED],
        count[CourseStatus.IN_PROGRESS],
        count[CourseStatus.NOT_STARTED],
        count[CourseStatus.OVERDUE],
        direct,
    )


def _row_path(unit: OrgUnit, member: MemberStatus) -> str:
    """The path of the direct child of ``unit`` that holds ``member`` ("" for a member of ``unit`` itself)."""
    below = member.unit.path[len(unit.path) :].strip("/")
    return f"{unit.path}{below.split('/')[0]}/" if below else ""


def build_report(
    unit: OrgUnit,
    children: Sequence[OrgUnit],
    course_id: str,
    course_title: str,
    deadline: dt.date | None,
    members: Sequence[MemberStatus],
    today: dt.date,
) -> Report:
    """The report for ``unit``: its total, one row per direct child (slowest first) plus one for the members
    attached to ``unit`` itself, and who is not yet done. Each card number counts once."""
    seen: set[str] = set()
    inside = []
    for member in members:
        if is_within(member.unit.path, unit.path) and member.card_number not in seen:
            seen.add(member.card_number)
            inside.append(member)
    groups: dict[str, list[MemberStatus]] = {child.path: [] for child in children}
    units = {child.path: child for child in children}
    for member in inside:
        path = _row_path(unit, member)
        groups.setdefault(path, []).append(member)
        if path not in units and path:  # a child the caller did not list: named after the member's own unit
            code = path.strip("/").rsplit("/", 1)[-1]
            units[path] = member.unit if member.unit.path == path else OrgUnit(code, code, "", path)
    sub_units = sorted(
        (summarise(units[path], group) for path, group in groups.items() if path),
        key=lambda s: (s.percent, s.unit.name),
    )
    direct = summarise(unit, groups[""], direct=True) if groups.get("") else None
    not_done = sorted(
        (m for m in inside if m.status != CourseStatus.COMPLETED), key=lambda m: (m.unit.path, m.full_name)
    )
    return Report(
        unit,
        course_id,
        course_title,
        deadline,
        today,
        summarise(unit, inside),
        tuple(sub_units),
        tuple(not_done),
        direct,
    )
