"""Grading stored submissions (a batch of one quiz at a time), keeping the counted attempt in the gradebook, and
grading essays.

nbgrader's gradebook holds one submission per student, so it holds the attempt that counts: after an attempt
is graded (and its result copied onto its row), ``keep_counted_attempt`` grades the counted attempt again when
the gradebook now holds another one. Each step is idempotent and runs after the result is recorded, so
attempts graded in any order, by any number of workers, end with the counted one in the gradebook.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db.quiz_batches import GradedResult, record_results, waiting_submissions
from diemcau.adapters.nbgrader.autograde import GradebookResult
from diemcau.adapters.nbgrader.grader import ManualGrade, QuizGrader, QuizSubmission
from diemcau.core.quiz_form import QuizForm
from diemcau.core.quiz_rules import AttemptScore, counted_attempt
from diemcau.core.quiz_spec import QuestionType
from diemcau.settings import Settings


log = logging.getLogger(__name__)


class EssayGradeError(Exception):
    """An essay grade the rules refuse; ``code`` is a catalogue key under ``quiz.``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Graders:
    """The nbgrader graders of one process, one per course (each holds a gradebook engine and caches its released
    quizzes); owned by the process's context (``jobs.context.WorkerContext``), or made for one call and closed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_course: dict[str, QuizGrader] = {}
        self._lock = threading.Lock()

    def __call__(self, course_id: str) -> QuizGrader:
        """The grader of ``course_id``."""
        with self._lock:
            if course_id not in self._by_course:
                self._by_course[course_id] = QuizGrader(self.settings, course_id)
            return self._by_course[course_id]

    def close(self) -> None:
        """Release every gradebook engine."""
        with self._lock:
            for grader in self._by_course.values():
                grader.close()
            self._by_course.clear()

    def __enter__(self) -> Graders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def essay_ids(form: QuizForm) -> list[str]:
    """The essay questions of a quiz."""
    return [q.id for q in form.questions if q.type == QuestionType.ESSAY]


def manual_grades(settings: Settings, form: QuizForm, record: store.SubmissionRecord) -> dict[str, ManualGrade]:
    """The human grades to re-apply when this attempt is written to the gradebook (its essay grade)."""
    if record.essay_category is None or record.essay_category not in settings.quiz.essay_categories:
        return {}
    share = settings.quiz.essay_categories[record.essay_category] / 100
    points = {q.id: q.points for q in form.questions}
    return {q_id: ManualGrade(points[q_id] * share, record.essay_comment) for q_id in essay_ids(form)}


def feedback_of(result: GradebookResult) -> list[dict[str, Any]]:
    """Per-question feedback from the gradebook: score, points, and whether a human has yet to grade it."""
    return [
        {"question": q.question_id, "score": q.score, "max": q.max_score, "pending": q.needs_manual_grade}
        for q in result.questions
    ]


def _submission(settings: Settings, form: QuizForm, record: store.SubmissionRecord) -> QuizSubmission:
    return QuizSubmission(
        record.quiz_id, record.member, record.answers, record.submitted_at, manual_grades(settings, form, record)
    )


def _write(graders: Graders, form: QuizForm, record: store.SubmissionRecord) -> GradebookResult:
    return graders(record.course_id).grade(_submission(graders.settings, form, record))


def keep_counted_attempt(graders: Graders, factory: sessionmaker[Session], form: QuizForm, member: str) -> None:
    """Make the gradebook hold the member's counted attempt (best or last, per the quiz)."""
    record = counted_submission(factory, form, member)
    if record is None:
        return
    held = graders(form.course_id).held_timestamp(form.quiz_id, member)
    if held != record.submitted_at:
        _write(graders, form, record)


def grade_batch(graders: Graders, factory: sessionmaker[Session], records: list[store.SubmissionRecord]) -> int:
    """Grade stored submissions of one quiz together: their grades go into the gradebook in one transaction and
    their results onto their rows in another. A submission nbgrader refuses is marked failed (with the reason for
    the operator); a database error is raised, and the batch is graded again (grading is idempotent). Returns
    how many were graded."""
    if not records:
        return 0
    course_id, quiz_id = records[0].course_id, records[0].quiz_id
    if any((r.course_id, r.quiz_id) != (course_id, quiz_id) for r in records):
        raise ValueError("a batch holds submissions of one quiz")
    form = store.load_form(factory, course_id, quiz_id)
    if form is None:
        for record in records:
            store.record_failure(factory, record.id, f"quiz {course_id}/{quiz_id} is not released")
        return 0
    outcomes = graders(course_id).grade_many([_submission(graders.settings, form, r) for r in records])
    graded = []
    for record, outcome in zip(records, outcomes, strict=True):
        if isinstance(outcome, Exception):
            log.error("grading %s failed: %s: %s", record.id, type(outcome).__name__, outcome)
            store.record_failure(factory, record.id, f"{type(outcome).__name__}: {outcome}")
        else:
            graded.append(GradedResult(record.id, outcome.score, outcome.max_score, feedback_of(outcome)))
    record_results(factory, graded)
    if form.rules.attempts > 1:  # with one attempt, the one just written is the one that counts
        for member in dict.fromkeys(r.member for r in records):
            keep_counted_attempt(graders, factory, form, member)
    return len(graded)


def grade_waiting(graders: Graders, factory: sessionmaker[Session], course_id: str, quiz_id: str, limit: int) -> int:
    """Grade up to ``limit`` of the submissions of a quiz that wait, oldest first; returns how many were waiting."""
    records = waiting_submissions(factory, course_id, quiz_id, limit)
    grade_batch(graders, factory, records)
    return len(records)


def grade_stored(graders: Graders, factory: sessionmaker[Session], submission_id: str) -> store.SubmissionRecord | None:
    """Grade one stored submission (no-op once graded) and return it as stored afterwards."""
    record = store.load_submission(factory, submission_id)
    if record is None or record.status == store.GRADED:
        return record
    grade_batch(graders, factory, [record])
    return store.load_submission(factory, submission_id)


def counted_of(form: QuizForm, attempts: list[store.SubmissionRecord]) -> store.SubmissionRecord | None:
    """Of one member's attempts, the one that counts, among the graded ones."""
    graded = [AttemptScore(a.attempt, a.score or 0.0) for a in attempts if a.status == store.GRADED]
    counted = counted_attempt(form.rules.counts, graded)
    return None if counted is None else next(a for a in attempts if a.attempt == counted.attempt)


def counted_submission(factory: sessionmaker[Session], form: QuizForm, member: str) -> store.SubmissionRecord | None:
    """The member's attempt that counts, among the graded ones."""
    return counted_of(form, store.member_submissions(factory, member, form.course_id, form.quiz_id))


def counted_submissions(
    factory: sessionmaker[Session], form: QuizForm, within: list[str]
) -> list[store.SubmissionRecord]:
    """The counted attempt of each member within these org subtrees who has one, read in one query."""
    by_member: dict[str, list[store.SubmissionRecord]] = {}
    for record in store.quiz_submissions(factory, form.course_id, form.quiz_id, within=within):
        by_member.setdefault(record.member, []).append(record)
    return [counted for attempts in by_member.values() if (counted := counted_of(form, attempts)) is not None]


def essays_waiting(factory: sessionmaker[Session], form: QuizForm, within: list[str]) -> int:
    """How many members within these subtrees have a counted attempt whose bài thu hoạch is not graded yet."""
    if not form.has_essay:
        return 0
    return sum(1 for record in counted_submissions(factory, form, within) if not record.essay_category)


def grade_essay(
    graders: Graders,
    factory: sessionmaker[Session],
    record: store.SubmissionRecord,
    category: str,
    comment: str,
    grader_username: str,
) -> store.SubmissionRecord:
    """Record a secretary's grade of an attempt's essay, in the application database and in the gradebook.

    Only the counted attempt (the one the gradebook holds) is graded; authorization is the caller's job.
    """
    if category not in graders.settings.quiz.essay_categories:
        raise EssayGradeError("unknown_category")
    form = store.load_form(factory, record.course_id, record.quiz_id)
    if form is None or not essay_ids(form):
        raise EssayGradeError("no_essay")
    counted = counted_submission(factory, form, record.member)
    if counted is None or counted.id != record.id:
        raise EssayGradeError("not_counted_attempt")
    store.record_essay_grade(factory, record.id, category, comment, grader_username)
    graded = store.load_submission(factory, record.id)
    result = _write(graders, form, graded)  # the gradebook's submission, with the manual grade applied
    store.record_result(factory, record.id, result.score, result.max_score, feedback_of(result))
    return store.load_submission(factory, record.id)
