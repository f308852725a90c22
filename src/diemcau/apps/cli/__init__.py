"""The ``diemcau`` command line: set up a data directory, import rosters, manage courses and users, run the hub.

The CLI is for operators, so it speaks English; messages meant for members and secretaries (roster errors,
login failures) come from the Vietnamese message catalogue. Each command group lives in its own module.
"""

from __future__ import annotations

import typer

from diemcau.apps.cli import (
    course,
    deploy,
    lecture,
    org,
    platform,
    quiz,
    report,
    roster,
    search,
    transcribe,
    transcript,
    user,
    worker,
)
from diemcau.apps.cli import material

app = typer.Typer(help="Điểm Cầu: study Party resolutions online, on JupyterHub.", no_args_is_help=True)
app.command()(platform.init)
app.command()(platform.hub)
app.command()(worker.worker)
app.add_typer(report.app, name="report")
app.command()(transcribe.transcribe)
app.add_typer(roster.app, name="roster")
app.add_typer(org.app, name="org")
app.add_typer(course.app, name="course")
lecture.app.command("attach")(material.lecture_attach)  # materials: their own module, in the lecture group
app.add_typer(lecture.app, name="lecture")
app.add_typer(user.app, name="user")
app.add_typer(transcript.app, name="transcript")
app.add_typer(search.app, name="search")
app.add_typer(quiz.app, name="quiz")
app.add_typer(deploy.app, name="deploy")


def main() -> None:
    app()
