"""The official report (Báo cáo kết quả học tập, quán triệt nghị quyết): totals, sub-units, members not done.

Pure: it takes each enrolled member's derived status and the org units, and returns a ``Report`` that the
XLSX and PDF renderers lay out. Percentages are per sub-unit (each direct child of the reporting unit,
aggregated over its whole subtree), slowest first, as committees read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from diemcau.core.course import CourseStatus
from diemcau.core.orgtree import OrgUnit, is_within


@dataclass(frozen=True)
class MemberStatus:
    """One enrolled member's standing in the course."""

    card_number: str
    full_name: str
    unit: OrgUnit
    status: CourseStatus
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitSummary:
    """Completion of one sub-unit (its whole subtree)."""

    unit: OrgUnit
    enrolled: int
    completed: int
    in_progress: int
    not_started: int
    overdue: int

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


def summarise_unit(unit: OrgUnit, members: Sequence[MemberStatus]) -> UnitSummary:
    """Counts by status of the members within ``unit``'s subtree."""
    inside = [m for m in members if is_within(m.unit.path, unit.path)]
    count = {status: sum(1 for m in inside if m.status == status) for status in CourseStatus}
    return UnitSummary(
        unit, len(inside), count[CourseStatus.COMPLETED], count[CourseStatus.IN_PROGRESS],
        count[CourseStatus.NOT_STARTED], count[CourseStatus.OVERDUE],
    )  # fmt: skip


def build_report(
    unit: OrgUnit,
    children: Sequence[OrgUnit],
    course_id: str,
    course_title: str,
    deadline: dt.date | None,
    members: Sequence[MemberStatus],
    today: dt.date,
) -> Report:
    """The report for ``unit``: its total, each direct child slowest first, and who is not yet done."""
    sub_units = sorted((summarise_unit(child, members) for child in children), key=lambda s: (s.percent, s.unit.name))
    not_done = sorted(
        (m for m in members if m.status != CourseStatus.COMPLETED and is_within(m.unit.path, unit.path)),
        key=lambda m: (m.unit.path, m.full_name),
    )
    total = summarise_unit(unit, members)
    return Report(unit, course_id, course_title, deadline, today, total, tuple(sub_units), tuple(not_done))
