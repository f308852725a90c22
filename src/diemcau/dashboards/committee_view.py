"""The committee dashboard's view-model: completion by sub-unit down the tree, slowest first, and over time.

Inputs are ``GET /api/courses/{id}/completion/units`` (status counts per unit, each member counted up the tree),
``GET /api/courses/{id}/completion/history`` and ``GET /api/org-units/{unit}/questions/unanswered`` (members'
questions still waiting for a trainer's answer, oldest first).

What the time series shows, honestly: for each day, how many members within scope had met the *watching*
condition on every lecture (watched to the course's threshold, or attended a group screening). A lecture is
dated by the member's last progress update once their coverage reached the threshold (rewatching after
finishing moves it later) or by the screening's date. Quizzes and essays are not in this series: the
'completed' counts in the tree are today's full status, the line is the watching part over time. The target
line is an even pace from the first day to 100 % on the deadline.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diemcau.i18n import t


@dataclass(frozen=True)
class UnitLine:
    """One unit of the tree with its subtree's counts; ``level`` is its depth below the top unit shown."""

    code: str
    name: str
    kind: str
    path: str
    level: int
    total: int
    completed: int
    overdue: int
    not_started: int
    percent: float


@dataclass(frozen=True)
class HistorySeries:
    """The watching line and the even-pace target, in percent of the members in scope."""

    days: tuple[dt.date, ...]
    watched_percent: tuple[float, ...]
    target_percent: tuple[float, ...]
    deadline: dt.date | None
    total: int
    watched_today: int


def unit_lines(units: Mapping) -> list[UnitLine]:
    """The units of the answer in tree order (parents before children), levels counted from the top unit."""
    rows = sorted(units["units"], key=lambda u: u["path"])
    top = min((u["depth"] for u in rows), default=0)
    return [
        UnitLine(
            u["code"],
            u["name"],
            u["kind"],
            u["path"],
            u["depth"] - top,
            u["total"],
            u["completed"],
            u["counts"].get("overdue", 0),
            u["counts"].get("not_started", 0),
            u["percent"],
        )
        for u in rows
    ]


def children(lines: Sequence[UnitLine], parent: UnitLine) -> list[UnitLine]:
    """The direct sub-units of ``parent``."""
    return [line for line in lines if line.path.rstrip("/").rsplit("/", 1)[0] + "/" == parent.path]


def top_unit(lines: Sequence[UnitLine]) -> UnitLine | None:
    """The unit at the top of the answer (the committee's own unit), if there is exactly one."""
    tops = [line for line in lines if line.level == 0]
    return tops[0] if len(tops) == 1 else None


def slowest_first(lines: Sequence[UnitLine]) -> list[UnitLine]:
    """Units with members, lowest completion first; among equals, the larger unit first (more people behind)."""
    return sorted((line for line in lines if line.total), key=lambda line: (line.percent, -line.total, line.path))


def slowest_subunits(lines: Sequence[UnitLine]) -> list[UnitLine]:
    """The top unit's direct sub-units, slowest first (what a committee chases next)."""
    top = top_unit(lines)
    return slowest_first(children(lines, top) if top else [line for line in lines if line.level == 0])


def slowest_leaves(lines: Sequence[UnitLine], limit: int = 10) -> list[UnitLine]:
    """The ``limit`` slowest units with no sub-unit (the cells), across the whole subtree."""
    parents = {line.path.rstrip("/").rsplit("/", 1)[0] + "/" for line in lines}  # each line's parent path
    return slowest_first([line for line in lines if line.path not in parents])[:limit]


def history_series(history: Mapping) -> HistorySeries:
    """The answer of the history route as percentages, with the even-pace target up to the deadline."""
    points = history["points"]
    days = tuple(dt.date.fromisoformat(p["day"]) if isinstance(p["day"], str) else p["day"] for p in points)
    total = history["total"]
    watched = tuple(round(100.0 * p["watched"] / total, 1) if total else 0.0 for p in points)
    deadline = history["deadline"]
    deadline = dt.date.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    target = tuple(_target(day, days[0], deadline) for day in days) if days else ()
    return HistorySeries(days, watched, target, deadline, total, points[-1]["watched"] if points else 0)


def _target(day: dt.date, first: dt.date, deadline: dt.date | None) -> float:
    if deadline is None or deadline <= first:
        return 100.0
    return round(min(100.0, 100.0 * (day - first).days / (deadline - first).days), 1)


def summary_text(lines: Sequence[UnitLine]) -> str:
    """'Đảng bộ tỉnh: hoàn thành 33.975/100.000 đảng viên (34%)' for the top unit."""
    top = top_unit(lines)
    if top is None:
        return t("dashboard.no_members")
    percent = round(top.percent)
    return t("dashboard.committee_summary", unit=top.name, done=top.completed, total=top.total, percent=percent)


def tree_html(lines: Sequence[UnitLine], max_level: int = 2) -> str:
    """The tree as an indented table, down to ``max_level`` below the top (cells of a province are many)."""
    shown = [line for line in lines if line.level <= max_level]
    if not shown:
        return f"<p>{html.escape(t('dashboard.no_members'))}</p>"
    columns = ("unit", "members", "completed", "percent", "not_started", "overdue")
    head = "".join(f"<th>{html.escape(t('dashboard.column_' + c))}</th>" for c in columns)
    rows = []
    for line in shown:
        name = f"<span style='padding-left:{1.5 * line.level}em'>{html.escape(line.name)}</span>"
        cells = [name, line.total, line.completed, f"{line.percent:g}%", line.not_started, line.overdue]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    style = "<style>.diemcau-tree td,.diemcau-tree th{padding:3px 8px;text-align:left}</style>"
    return f"{style}<table class='diemcau-tree'><tr>{head}</tr>{''.join(rows)}</table>"


@dataclass(frozen=True)
class WaitingQuestion:
    """A member's question still waiting for an answer, and for how many days."""

    lecture_title: str
    moment_label: str
    unit_name: str
    asker_name: str
    text: str
    age_days: int


def waiting_questions(answer: Sequence[Mapping]) -> list[WaitingQuestion]:
    """The unanswered-questions answer as lines, longest waiting first."""
    lines = [
        WaitingQuestion(
            q["lecture_title"], q["moment_label"], q["unit_name"], q.get("asker_name") or "", q["text"], q["age_days"]
        )
        for q in answer
    ]
    return sorted(lines, key=lambda line: -line.age_days)


def questions_html(lines: Sequence[WaitingQuestion]) -> str:
    """The waiting questions as an escaped table (members typed them: never trust them as HTML)."""
    if not lines:
        return f"<p>{html.escape(t('questions.dashboard_none'))}</p>"
    summary = t("questions.dashboard_summary", count=len(lines), days=lines[0].age_days)
    columns = ("age", "unit", "asker", "lecture", "moment", "question")
    head = "".join(f"<th>{html.escape(t('questions.column_' + c))}</th>" for c in columns)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c))}</td>"
            for c in (q.age_days, q.unit_name, q.asker_name, q.lecture_title, q.moment_label, q.text)
        )
        + "</tr>"
        for q in lines
    )
    return f"<p>{html.escape(summary)}</p><table class='diemcau-tree'><tr>{head}</tr>{rows}</table>"
