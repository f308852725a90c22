"""The typed shapes of the quiz routes (answers are plain JSON: a letter, letters, "true"/"false", or text)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from diemcau.apps.api.schemas.input_rules import UtcDateTime

AnswerValue = str | list[str] | bool | None


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class OptionOut(_Out):
    id: str = Field(description="The option's letter; answers name options by it.")
    text: str


class QuestionOut(_Out):
    id: str
    type: str = Field(description="single, multiple, true_false, short or essay.")
    text: str
    points: float
    options: list[OptionOut]
    min_words: int


class FeedbackOut(_Out):
    question: str
    score: float | None
    max: float
    pending: bool = Field(description="A human has yet to grade it (the essay).")


class SubmissionOut(_Out):
    id: str
    course_id: str
    quiz_id: str
    member: str
    member_name: str
    attempt: int
    submitted_at: UtcDateTime
    late: bool
    status: str = Field(description="received (stored, grading), graded, or failed.")
    score: float | None
    max_score: float | None
    passed: bool | None = Field(description="Score at or above the pass mark; None until graded or while pending.")
    feedback: list[FeedbackOut]
    essay_category: str | None
    essay_comment: str | None


class QuizSummaryOut(_Out):
    course_id: str
    quiz_id: str
    title: str
    opens: UtcDateTime | None
    closes: UtcDateTime | None
    attempts_allowed: int
    attempts_used: int = Field(description="The caller's own attempts.")
    counts: str = Field(description="best or last: which attempt counts.")
    counted_score: float | None = Field(description="The caller's counted score, once graded.")
    max_score: float
    pass_percent: float
    can_take: bool = Field(
        description="May the caller submit an attempt now (enrolled, the window open or late work accepted, an "
        "attempt left)? Judged again when a submission arrives."
    )


class QuizOut(QuizSummaryOut):
    description: str
    questions: list[QuestionOut] = Field(description="In the order this member sees them (shuffled per the quiz).")
    submissions: list[SubmissionOut]
    draft: dict[str, Any]
    essay_categories: list[str]


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Chosen by the client once per attempt; sending it again returns the stored attempt.",
    )
    member: str | None = Field(
        None, description="Optional; if given it must be the caller (members submit only for themselves)."
    )
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=500)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=500)


class EssayGradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=64, description="One of the configured categories (quiz.essay_categories).")
    comment: str = Field("", max_length=5000, description="Returned to the member.")
