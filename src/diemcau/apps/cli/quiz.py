"""``diemcau quiz``: check a quiz spec, release it through nbgrader, read its results from the gradebook.

Spec problems come out one per line as ``file:line: field: message``, in Vietnamese: trainers write specs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from diemcau.apps.cli.common import factory_or_exit, fail

app = typer.Typer(help="Quizzes and learning reports (nbgrader).", no_args_is_help=True)


@app.command("validate")
def quiz_validate(
    file: Annotated[Path, typer.Argument(help="courses/<course>/quizzes/<quiz>.yaml")],
    course: Annotated[Optional[str], typer.Option(help="Course id (default: the folder above quizzes/).")] = None,  # noqa: UP007
) -> None:
    """Check a spec without releasing it; exit status 1 and every problem when it is wrong."""
    from diemcau.adapters.quiz_files import QuizFileError, load_quiz_file

    try:
        spec = load_quiz_file(file, course)
    except QuizFileError as error:
        fail(str(error))
    kinds = ", ".join(sorted({q.type.value for q in spec.questions}))
    typer.echo(f"{file}: ok — {len(spec.questions)} question(s) ({kinds}), {spec.total_points:g} point(s)")


@app.command("release")
def quiz_release(
    course_id: Annotated[str, typer.Argument(metavar="COURSE")],
    quiz_id: Annotated[str, typer.Argument(metavar="QUIZ")],
    source: Annotated[
        Optional[Path], typer.Option("--from", help="Courses folder (default: content.courses_dir).")
    ] = None,  # noqa: UP007
) -> None:
    """Compile the spec to an nbgrader notebook, generate the assignment and open it to members (idempotent)."""
    from diemcau.adapters.nbgrader.release import ReleaseError
    from diemcau.adapters.quiz_files import QuizFileError
    from diemcau.quizzes.publish import UnknownCourseError, release

    settings, factory = factory_or_exit()
    try:
        form = release(settings, factory, course_id, quiz_id, source)
    except (QuizFileError, ReleaseError, UnknownCourseError) as error:
        fail(str(error))
    typer.echo(f"released {course_id}/{quiz_id}: {len(form.questions)} question(s), {form.total_points:g} point(s)")


@app.command("results")
def quiz_results(
    course_id: Annotated[str, typer.Argument(metavar="COURSE")],
    quiz_id: Annotated[str, typer.Argument(metavar="QUIZ")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each member's counted score from nbgrader's gradebook, with attempts, lateness and essay grade."""
    from diemcau.quizzes.results import quiz_results as results_of

    settings, factory = factory_or_exit()
    try:
        results = results_of(settings, factory, course_id, quiz_id)
    except LookupError as error:
        fail(f"{error}: run `diemcau quiz release {course_id} {quiz_id}` first")
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        return
    for r in results:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        verdict = {True: "passed", False: "not passed", None: "pending"}[r.passed]
        flags = " late" if r.late else ""
        typer.echo(f"{r.member}\t{score}\t{verdict}{flags}\tattempts {r.attempts}\t{r.essay_category or ''}\t{r.name}")
