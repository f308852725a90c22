"""The cell dashboard's view-model: one line per member, filters, and the *nhắc nhở* text for the Zalo group.

Input is what ``GET /api/courses/{id}/completion`` returns (already scoped to the viewer's cell by the API),
plus the titles of the course's lectures and quizzes. Everything here is pure: dataclasses, strings and HTML.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from diemcau.core.completion_tree import STATUSES
from diemcau.i18n import t


@dataclass(frozen=True)
class QuizInfo:
    """What the page needs of a quiz: its title and full marks."""

    title: str
    max_score: float


@dataclass(frozen=True)
class MemberLine:
    """One member's row: status, mean coverage, quiz score, essay grade, and what is still to do."""

    card: str
    full_name: str
    unit_name: str
    status: str
    status_label: str
    coverage: float  # mean over the lectures, a screened lecture counting 100 %
    lectures_done: int
    screened: int
    quiz_score: str
    essay_grade: str
    todo: tuple[str, ...]


@dataclass(frozen=True)
class CellView:
    """A course's standing in one cell (or whatever the API scoped to)."""

    course_id: str
    title: str
    deadline: dt.date | None
    days_left: int | None
    lectures_total: int
    lines: tuple[MemberLine, ...]

    @property
    def total(self) -> int:
        return len(self.lines)

    @property
    def completed(self) -> int:
        return sum(1 for line in self.lines if line.status == "completed")

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(line.status for line in self.lines)
        return {status: found.get(status, 0) for status in STATUSES}


def _score(value: float) -> str:
    return f"{value:g}"


def quiz_score_text(scores: Mapping[str, float | None], quizzes: Mapping[str, QuizInfo]) -> str:
    """``8/10`` per quiz (``—`` when not graded yet), joined with ``; `` when a course has several."""
    parts = []
    for quiz_id, info in quizzes.items():
        score = scores.get(quiz_id)
        shown = "—" if score is None else f"{_score(score)}/{_score(info.max_score)}"
        parts.append(shown if len(quizzes) == 1 else f"{info.title}: {shown}")
    return "; ".join(parts) if parts else "—"


def todo_items(member: Mapping, lecture_titles: Mapping[str, str], quizzes: Mapping[str, QuizInfo]) -> tuple[str, ...]:
    """What the member still has to do, in Vietnamese, in the order the API lists the missing conditions."""
    items = []
    for missing in member["missing"]:
        kind, _, ident = missing.partition(":")
        if kind == "lecture":
            percent = round(member["coverage"].get(ident, 0.0))
            items.append(t("dashboard.todo_lecture", title=lecture_titles.get(ident, ident), percent=percent))
        elif kind == "quiz":
            info = quizzes.get(ident)
            items.append(t("dashboard.todo_quiz", title=info.title if info else ident))
        elif kind == "essay":
            grade = member.get("essay_grade")
            items.append(t("dashboard.todo_essay_again", grade=grade) if grade else t("dashboard.todo_essay"))
        elif kind == "content":
            items.append(t("dashboard.todo_content"))
    return tuple(items)


def member_line(
    member: Mapping, lectures: Sequence[str], lecture_titles: Mapping[str, str], quizzes: Mapping[str, QuizInfo]
) -> MemberLine:
    """One row of the table from one member of the completion answer."""
    screened = set(member["screened"])
    effective = [100.0 if lec in screened else min(100.0, member["coverage"].get(lec, 0.0)) for lec in lectures]
    missing_lectures = {m.partition(":")[2] for m in member["missing"] if m.startswith("lecture:")}
    return MemberLine(
        card=member["card"],
        full_name=member["full_name"],
        unit_name=member["unit"]["name"],
        status=member["status"],
        status_label=member["status_label"],
        coverage=round(sum(effective) / len(effective), 1) if effective else 0.0,
        lectures_done=sum(1 for lec in lectures if lec not in missing_lectures),
        screened=len(screened & set(lectures)),
        quiz_score=quiz_score_text(member["quiz_scores"], quizzes),
        essay_grade=member.get("essay_grade") or "—",
        todo=todo_items(member, lecture_titles, quizzes),
    )


def build_cell_view(
    completion: Mapping,
    lecture_titles: Mapping[str, str],
    quizzes: Mapping[str, QuizInfo],
    days_to_deadline: int | None,
) -> CellView:
    """The view of a completion answer; ``days_to_deadline`` comes from the API (``GET /api/courses``), so the
    page counts days on the server's Vietnamese calendar, the same one the statuses were derived on."""
    deadline = completion["deadline"]
    deadline = dt.date.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    lectures = list(completion["lectures"])
    lines = tuple(member_line(m, lectures, lecture_titles, quizzes) for m in completion["members"])
    return CellView(completion["course_id"], completion["title"], deadline, days_to_deadline, len(lectures), lines)


def matches(status: str, full_name: str, card: str, statuses: Collection[str] = (), text: str = "") -> bool:
    """Is a member with this status, name and card kept by the filter: status one of ``statuses`` (all when
    empty), ``text`` in the name or card? (The staff home filters its rows with it before building lines.)"""
    needle = text.strip().lower()
    return (not statuses or status in statuses) and (
        not needle or needle in full_name.lower() or needle in card.lower()
    )


def filter_lines(view: CellView, statuses: Collection[str] = (), text: str = "") -> list[MemberLine]:
    """Lines whose status is one of ``statuses`` (all when empty) and whose name or card contains ``text``."""
    return [line for line in view.lines if matches(line.status, line.full_name, line.card, statuses, text)]


def date_text(day: dt.date | None) -> str:
    """``30/03/2026`` (the Vietnamese way), or the catalogue's 'no deadline'."""
    return day.strftime("%d/%m/%Y") if day else t("dashboard.no_deadline")


def deadline_text(view: CellView) -> str:
    """'Hạn hoàn thành: 30/03/2026 (còn 20 ngày)', or overdue, or due today, or no deadline set."""
    if view.deadline is None or view.days_left is None:
        return t("dashboard.no_deadline")
    when = date_text(view.deadline)
    if view.days_left > 0:
        return t("dashboard.deadline_in", date=when, days=view.days_left)
    if view.days_left == 0:
        return t("dashboard.deadline_today", date=when)
    return t("dashboard.deadline_passed", date=when, days=-view.days_left)


def summary_text(view: CellView) -> str:
    """'Hoàn thành 1/3 đảng viên (33%)'."""
    return done_text(view.completed, view.total)


def done_text(done: int, total: int) -> str:
    """'Hoàn thành 1/3 đảng viên (33%)' from the two counts."""
    percent = round(100 * done / total) if total else 0
    return t("dashboard.cell_summary", done=done, total=total, percent=percent)


def reminder_text(view: CellView, unit_name: str) -> str:
    """Ready-to-paste plain text for the village Zalo group: who is not done, what each still has to do."""
    head = [
        t("dashboard.reminder_title", unit=unit_name),
        t("dashboard.reminder_course", title=view.title),
        deadline_text(view),
        t("dashboard.reminder_done", done=view.completed, total=view.total),
    ]
    behind = [line for line in view.lines if line.status != "completed"]
    if not behind:
        return "\n".join([*head, t("dashboard.reminder_all_done")])
    body = [t("dashboard.reminder_list")]
    for number, line in enumerate(behind, 1):
        body.append(
            t(
                "dashboard.reminder_line",
                n=number,
                name=line.full_name,
                card=line.card,
                todo="; ".join(line.todo) or t("dashboard.todo_waiting"),
            )
        )
    return "\n".join([*head, *body, t("dashboard.reminder_closing")])


STATUS_COLOURS = {"completed": "#1b7f3b", "in_progress": "#9a6700", "not_started": "#555", "overdue": "#b00020"}


# The member table; on a phone (≤ 640 px) each member becomes a card, each value under its column's name, so
# nothing is clipped or squeezed to a word per line.
TABLE_CSS = (
    ".diemcau-cell td,.diemcau-cell th{padding:4px 8px;vertical-align:top;text-align:left}"
    "@media (max-width:640px){.diemcau-cell,.diemcau-cell tbody,.diemcau-cell tr,.diemcau-cell td{display:block}"
    ".diemcau-cell tr:first-child{display:none}.diemcau-cell tr{border-top:1px solid #ccc;padding:6px 0}"
    ".diemcau-cell td{padding:1px 4px}.diemcau-cell td+td::before{content:attr(data-label) ': ';color:#555}}"
)


def table_html(lines: Sequence[MemberLine], view: CellView) -> str:
    """The member table as escaped HTML (status coloured; deadline in its own column)."""
    if not lines:
        return f"<p>{html.escape(t('dashboard.no_members'))}</p>"
    columns = ("member", "status", "coverage", "quiz", "essay", "deadline", "todo")
    labels = [html.escape(t("dashboard.column_" + c), quote=True) for c in columns]
    head = "".join(f"<th>{label}</th>" for label in labels)
    deadline = html.escape(date_text(view.deadline) if view.deadline else "—")
    rows = []
    for line in lines:
        colour = STATUS_COLOURS.get(line.status, "#000")
        coverage = t(
            "dashboard.coverage_cell", percent=_score(line.coverage), done=line.lectures_done, total=view.lectures_total
        )
        if line.screened:
            coverage += " " + t("dashboard.screened_mark", count=line.screened)
        who = (
            f"{html.escape(line.full_name)}<br><small>{html.escape(line.card)} · {html.escape(line.unit_name)}</small>"
        )
        cells = [
            who,
            f"<b style='color:{colour}'>{html.escape(line.status_label)}</b>",
            html.escape(coverage),
            html.escape(line.quiz_score),
            html.escape(line.essay_grade),
            deadline,
            html.escape("; ".join(line.todo)),
        ]
        rows.append("<tr>" + "".join(f"<td data-label='{label}'>{c}</td>" for label, c in zip(labels, cells)) + "</tr>")
    style = f"<style>{TABLE_CSS}</style>"
    return f"{style}<table class='diemcau-cell'><tr>{head}</tr>{''.join(rows)}</table>"
