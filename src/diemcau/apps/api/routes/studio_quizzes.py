"""Quiz authoring for the studio: open a saved spec, validate its YAML, preview it as a member sees it, release it.

Trainers and admins only (``core.roles.can_manage_content``; trainers manage every course's content), on a
course that exists. The YAML goes through exactly what ``diemcau quiz validate`` and ``quiz release`` use:
``adapters.quiz_files.parse_quiz_text`` (every problem placed by line and field, in Vietnamese),
``core.quiz_form.public_form`` / ``presented`` (what a member sees, in a member's order) and
``quizzes.publish.release_spec`` (nbgrader's generate_assignment, then the form stored for members). A release
also writes the spec to ``<courses_dir>/<course>/quizzes/<quiz>.yaml`` — only after nbgrader and the database
accepted it, through a temporary file — so the course folder keeps the quiz as plain text, as if written by hand.
That file is what the studio opens again to edit a released quiz (``GET``, the text as saved).
"""

from __future__ import annotations


from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from diemcau.adapters.nbgrader.release import ReleaseError, write_atomically
from diemcau.adapters.quiz_files import PlacedProblem, QuizFileError, parse_quiz_text, quiz_path
from diemcau.apps.api.plumbing.access import Caller, current_caller
from diemcau.apps.api.plumbing.context import ApiContext, context_of
from diemcau.apps.api.schemas.input_rules import UtcDateTime
from diemcau.apps.api.schemas.quizzes import OptionOut, QuestionOut
from diemcau.core.quiz_form import presented, public_form
from diemcau.core.quiz_spec import QUIZ_ID_PATTERN, QuizSpec
from diemcau.core.roles import can_manage_content
from diemcau.i18n import t
from diemcau.quizzes.publish import release_spec

router = APIRouter(tags=["studio"])
PREVIEW_SEED = "studio-preview"  # a member's order is fixed by their name and attempt; the preview's by this
MAX_SPEC_CHARS = 200_000


class SpecIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yaml: str = Field(max_length=MAX_SPEC_CHARS, description="The quiz spec (docs/quizzes.md), as YAML text.")


class ProblemOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    line: int | None = Field(description="1-based line in the YAML; None when the text could not be read.")
    field: str = Field(description="questions[2].answer, title ... as trainers read it.")
    message: str = Field(description="What is wrong, in Vietnamese.")


class CheckOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    valid: bool
    problems: list[ProblemOut]
    questions: int = 0
    total_points: float = 0.0


class PreviewOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    course_id: str
    quiz_id: str
    title: str
    description: str
    questions: list[QuestionOut] = Field(description="As a member sees them (shuffled when the quiz shuffles).")
    total_points: float
    pass_percent: float
    attempts_allowed: int
    counts: str
    late: str
    opens: UtcDateTime | None
    closes: UtcDateTime | None


class SpecOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    course_id: str
    quiz_id: str
    yaml: str = Field(description="The saved spec as written (by the studio or by hand), for the form to open.")
    spec_file: str = Field(description="Where it is saved, relative to the courses folder.")


class ReleaseOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    course_id: str
    quiz_id: str
    title: str
    questions: int
    total_points: float
    spec_file: str = Field(description="Where the spec was saved, relative to the courses folder.")


_PROBLEMS = {422: {"description": "The spec has problems: `detail` says how many, `problems` lists each."}}
_REFUSED = {403: {"description": "Not a trainer or admin."}, 404: {"description": "No such course."}}


def _authorise(ctx: ApiContext, caller: Caller, course_id: str, quiz_id: str) -> None:
    if not can_manage_content(caller.viewer):
        raise HTTPException(403, t("api.forbidden"))
    if ctx.visibility.course(caller.viewer, course_id) is None:
        raise HTTPException(404, t("api.course_not_found"))
    if not QUIZ_ID_PATTERN.match(quiz_id):
        raise HTTPException(422, t("studio.bad_quiz_id", quiz=quiz_id))


def _problem(placed: PlacedProblem) -> ProblemOut:
    return ProblemOut(line=placed.line, field=placed.field, message=placed.message)


def _parse(course_id: str, quiz_id: str, body: SpecIn) -> QuizSpec:
    """The validated spec; a ``QuizFileError`` lists every problem."""
    return parse_quiz_text(body.yaml, f"{quiz_id}.yaml", course_id, quiz_id)


def _invalid(error: QuizFileError) -> JSONResponse:
    problems = [_problem(p).model_dump() for p in error.problems]
    return JSONResponse({"detail": t("studio.quiz_invalid", count=len(problems)), "problems": problems}, 422)


@router.post("/api/studio/quizzes/{course_id}/{quiz_id}/validate", response_model=CheckOut, responses=_REFUSED)
def validate_quiz(
    course_id: str,
    quiz_id: str,
    body: SpecIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> CheckOut:
    """Check a spec without saving anything: every problem, each with its line and field."""
    _authorise(ctx, caller, course_id, quiz_id)
    try:
        spec = _parse(course_id, quiz_id, body)
    except QuizFileError as error:
        return CheckOut(valid=False, problems=[_problem(p) for p in error.problems])
    return CheckOut(valid=True, problems=[], questions=len(spec.questions), total_points=spec.total_points)


@router.post(
    "/api/studio/quizzes/{course_id}/{quiz_id}/preview",
    response_model=PreviewOut,
    responses={**_REFUSED, **_PROBLEMS},
)
def preview_quiz(
    course_id: str,
    quiz_id: str,
    body: SpecIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> PreviewOut | JSONResponse:
    """The quiz as a member would see it (no answer keys), from a spec that is not saved."""
    _authorise(ctx, caller, course_id, quiz_id)
    try:
        spec = _parse(course_id, quiz_id, body)
    except QuizFileError as error:
        return _invalid(error)
    form = public_form(spec)
    rules = form.rules
    return PreviewOut(
        course_id=course_id,
        quiz_id=quiz_id,
        title=form.title,
        description=form.description,
        questions=[
            QuestionOut(
                id=q.id,
                type=q.type.value,
                text=q.text,
                points=q.points,
                min_words=q.min_words,
                options=[OptionOut(id=o.id, text=o.text) for o in q.options],
            )
            for q in presented(form, PREVIEW_SEED)
        ],
        total_points=form.total_points,
        pass_percent=rules.pass_percent,
        attempts_allowed=rules.attempts,
        counts=rules.counts.value,
        late=rules.late.value,
        opens=rules.opens,
        closes=rules.closes,
    )


@router.get(
    "/api/studio/quizzes/{course_id}/{quiz_id}",
    response_model=SpecOut,
    responses={403: _REFUSED[403], 404: {"description": "No such course, or no saved spec of that quiz."}},
)
def read_spec(
    course_id: str, quiz_id: str, caller: Caller = Depends(current_caller), ctx: ApiContext = Depends(context_of)
) -> SpecOut:
    """The saved spec of a quiz (``<courses_dir>/<course>/quizzes/<quiz>.yaml``), for the studio's form to open
    it again; it is not validated here (the form sends it back through validate or release)."""
    _authorise(ctx, caller, course_id, quiz_id)
    target = quiz_path(ctx.settings.courses_dir, course_id, quiz_id)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HTTPException(404, t("studio.quiz_spec_not_found", quiz=quiz_id)) from None
    except UnicodeDecodeError:
        raise HTTPException(422, t("quiz_spec.not_utf8")) from None
    spec_file = str(target.relative_to(ctx.settings.courses_dir))
    return SpecOut(course_id=course_id, quiz_id=quiz_id, yaml=text, spec_file=spec_file)


def _release(ctx: ApiContext, spec: QuizSpec, text: str) -> str:
    release_spec(ctx.settings, ctx.factory, spec)
    target = quiz_path(ctx.settings.courses_dir, spec.course_id, spec.quiz_id)
    write_atomically(target, text if text.endswith("\n") else text + "\n")
    return str(target.relative_to(ctx.settings.courses_dir))


@router.post(
    "/api/studio/quizzes/{course_id}/{quiz_id}/release",
    response_model=ReleaseOut,
    responses={
        **_REFUSED,
        409: {"description": "nbgrader refused (members already answered other questions)."},
        **_PROBLEMS,
    },
)
async def release_quiz(
    course_id: str,
    quiz_id: str,
    body: SpecIn,
    caller: Caller = Depends(current_caller),
    ctx: ApiContext = Depends(context_of),
) -> ReleaseOut | JSONResponse:
    """Release the quiz to members (again, if it was): nbgrader generates it, members get the form, and the
    spec is saved in the course folder. Nothing is saved when the spec has problems."""
    await run_in_threadpool(_authorise, ctx, caller, course_id, quiz_id)
    try:
        spec = _parse(course_id, quiz_id, body)
    except QuizFileError as error:
        return _invalid(error)
    try:
        saved = await run_in_threadpool(_release, ctx, spec, body.yaml)
    except ReleaseError as error:
        raise HTTPException(409, t("studio.release_refused", detail=str(error))) from None
    ctx.runtime.forms.forget(course_id, quiz_id)  # members here get the new release at once
    return ReleaseOut(
        course_id=course_id,
        quiz_id=quiz_id,
        title=spec.title,
        questions=len(spec.questions),
        total_points=spec.total_points,
        spec_file=saved,
    )
