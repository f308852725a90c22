"""The ``diemcau`` command line: set up a data directory, import rosters, manage courses and users, run the hub.

The CLI is for operators, so it speaks English; messages meant for members and secretaries (roster errors,
login failures) come from the Vietnamese message catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from diemcau.adapters import course_files
from diemcau.adapters.db import accounts
from diemcau.adapters.db.courses import UnknownAudienceError, course_of, list_courses, upsert_course
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.orgs import OrgTreeError, list_units, load_org_tree
from diemcau.adapters.db.roster_store import RosterImportError, import_roster, render_errors
from diemcau.apps import setup_steps
from diemcau.core.course import Course, is_valid_course_id
from diemcau.core.roles import Role
from diemcau.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="Điểm Cầu: study Party resolutions online, on JupyterHub.", no_args_is_help=True)
roster_app = typer.Typer(help="Import the member roster.", no_args_is_help=True)
org_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
course_app = typer.Typer(help="Courses (study programmes).", no_args_is_help=True)
user_app = typer.Typer(help="Member accounts: activation codes, resets, roles.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
app.add_typer(org_app, name="org")
app.add_typer(course_app, name="course")
app.add_typer(user_app, name="user")


def fail(message: str) -> None:
    """Print ``message`` to stderr and exit with status 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))
        raise  # unreachable


def factory_or_exit():  # type: ignore[no-untyped-def]
    settings = settings_or_exit()
    setup_steps.ensure_data_dir(settings)
    return settings, setup_steps.ensure_database(settings)


@app.command()
def init(demo: Annotated[bool, typer.Option(help="Also load the demo province, users and course.")] = False) -> None:
    """Create the data directory, migrate the database and load the courses folder (idempotent)."""
    settings, factory = factory_or_exit()
    if demo:
        from diemcau.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, DEMO_UNACTIVATED, seed_demo

        code = seed_demo(factory, settings.auth.activation_code_days)
        typer.echo("Demo province loaded. Logins (password for all: %s):" % DEMO_PASSWORD)
        for login in DEMO_LOGINS:
            typer.echo(f"  {login.username:<10} {login.role.value:<10} {login.description}")
        typer.echo(f"  {DEMO_UNACTIVATED:<10} {'member':<10} not activated yet: activation code {code}")
    try:
        count = setup_steps.ensure_courses(settings, factory)
    except (course_files.CourseFileError, UnknownAudienceError) as error:
        fail(str(error))
    typer.echo(f"Data directory ready: {settings.home} ({count} course file(s) loaded from {settings.courses_dir})")


@org_app.command("load")
def org_load(path: Path) -> None:
    """Load or update the org tree from a YAML file (any depth; idempotent)."""
    _, factory = factory_or_exit()
    try:
        report = load_org_tree(factory, path)
    except OrgTreeError as error:
        fail(str(error))
    typer.echo(str(report))


@org_app.command("list")
def org_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the org tree."""
    _, factory = factory_or_exit()
    with transaction(factory) as session:
        units = list_units(session)
    if as_json:
        typer.echo(json.dumps([u.__dict__ for u in units], ensure_ascii=False, indent=2))
        return
    for unit in units:
        typer.echo(f"{'  ' * (unit.depth - 1)}{unit.code}  {unit.name}")


@roster_app.command("import")
def roster_import(
    path: Path,
    deactivate_missing: Annotated[bool, typer.Option(help="Deactivate active members absent from the file.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check and report, change nothing.")] = False,
) -> None:
    """Import members from a CSV or XLSX roster with Vietnamese headers; all rows or none."""
    _, factory = factory_or_exit()
    try:
        report = import_roster(factory, path, deactivate_missing=deactivate_missing, dry_run=dry_run)
    except RosterImportError as error:
        fail("\n".join(["Nothing was imported:", *render_errors(error.errors)]))
    typer.echo(str(report))


@course_app.command("create")
def course_create(
    course_id: Annotated[str, typer.Argument(metavar="ID")],
    title: Annotated[str, typer.Option(help="Course title, shown to members.")],
    deadline: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD")] = None,  # noqa: UP007 (typer)
    resolution: Annotated[Optional[list[str]], typer.Option(help="Resolution covered (repeatable).")] = None,  # noqa: UP007
    audience: Annotated[Optional[list[str]], typer.Option(help="Audience org unit code (repeatable).")] = None,  # noqa: UP007
) -> None:
    """Create a course: writes courses/ID/course.yaml and loads it."""
    settings, factory = factory_or_exit()
    if not is_valid_course_id(course_id):
        fail(f"Invalid course id {course_id!r}: use lowercase letters, digits, '-' or '_'.")
    try:
        due = dt.date.fromisoformat(deadline) if deadline else None
    except ValueError:
        fail(f"Invalid deadline {deadline!r}: use YYYY-MM-DD, e.g. 2026-12-31.")
    course = Course(course_id, title, tuple(resolution or ()), tuple(audience or ()), due)
    try:
        with transaction(factory) as session:
            upsert_course(session, course)
            course_files.write_course_file(settings.courses_dir, course)
    except UnknownAudienceError as error:
        fail(str(error))
    typer.echo(course_id)


@course_app.command("list")
def course_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List courses with their deadlines and audiences."""
    _, factory = factory_or_exit()
    with transaction(factory) as session:
        courses = [course_of(row) for row in list_courses(session)]
    if as_json:
        rows = [course_files.course_to_dict(c) | {"deadline": c.deadline and c.deadline.isoformat()} for c in courses]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for course in courses:
        typer.echo(f"{course.id}\t{course.deadline or '-'}\t{course.title}")


@course_app.command("sync")
def course_sync() -> None:
    """Reload every course file from the courses folder."""
    settings, factory = factory_or_exit()
    try:
        typer.echo(f"{setup_steps.ensure_courses(settings, factory)} course(s) loaded")
    except (course_files.CourseFileError, UnknownAudienceError) as error:
        fail(str(error))


def _account_call(action, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return action(*args, **kwargs)
    except accounts.AccountError as error:
        fail(f"{error.code.replace('_', ' ')}: check the card number (or org unit code) and try again.")


@user_app.command("activation-code")
def user_activation_code(
    card: str, reset: Annotated[bool, typer.Option(help="Also clear the current password.")] = False
) -> None:
    """Issue a one-time activation code for a member's first login (or a password reset)."""
    settings, factory = factory_or_exit()
    days = settings.auth.activation_code_days
    code = _account_call(accounts.issue_activation_code, factory, card, dt.timedelta(days=days), reset_password=reset)
    typer.echo(f"{code}  (valid {days} days; the member enters it at /hub/activate)")


@user_app.command("reset")
def user_reset(card: str) -> None:
    """Reset a member's password: clears it and issues a new activation code."""
    user_activation_code(card, reset=True)


@user_app.command("unlock")
def user_unlock(card: str) -> None:
    """Lift a lockout after too many failed logins."""
    _, factory = factory_or_exit()
    _account_call(accounts.unlock, factory, card)
    typer.echo("unlocked")


@user_app.command("set-password")
def user_set_password(card: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)]) -> None:
    """Set a member's password directly (operators only)."""
    _, factory = factory_or_exit()
    _account_call(accounts.set_password, factory, card, password)
    typer.echo("password set")


@user_app.command("grant")
def user_grant(
    card: str,
    role: Role,
    org: Annotated[Optional[str], typer.Option(help="Org unit code the role covers; omit for everywhere.")] = None,  # noqa: UP007
) -> None:
    """Grant a role (trainer, secretary, committee, admin) over an org unit subtree."""
    _, factory = factory_or_exit()
    _account_call(accounts.grant_role, factory, card, role, org)
    typer.echo(f"{card}: {role.value} over {org or 'everything'}")


def hub_config_path() -> Path:
    """hub_config/jupyterhub_config.py of this checkout (the package is installed in editable mode)."""
    here = Path.cwd() / "hub_config" / "jupyterhub_config.py"
    return here if here.exists() else Path(__file__).resolve().parents[3] / "hub_config" / "jupyterhub_config.py"


def print_banner(settings: Settings, demo_logins: bool) -> None:
    """Tell the person at the terminal where to go and, for the demo, how to log in."""
    typer.secho(f"\nĐiểm Cầu is running: http://{settings.hub.ip}:{settings.hub.port}/   (Ctrl-C to stop)", bold=True)
    if demo_logins:
        from diemcau.demo.seed import DEMO_LOGINS, DEMO_PASSWORD

        typer.echo(f"Demo logins (password {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            typer.echo(f"  {login.username:<10} {login.role.value:<10} {login.description}")
    typer.echo("")


@app.command()
def hub(
    demo_logins: Annotated[bool, typer.Option(help="Print the demo logins once the hub is up.")] = False,
) -> None:
    """Run JupyterHub with its proxy and the Điểm Cầu services (Ctrl-C stops everything)."""
    from diemcau.apps.hub_runner import run_hub

    settings, factory = factory_or_exit()
    setup_steps.ensure_courses(settings, factory)
    config = hub_config_path()
    repo = config.parent.parent
    env = dict(os.environ)
    env["DIEMCAU_HOME"] = str(settings.home)
    env["DIEMCAU_CONTENT__COURSES_DIR"] = str(settings.courses_dir)
    env["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"] = str(settings.transcripts_dir)
    env["PATH"] = os.pathsep.join([str(repo / "node_modules" / ".bin"), str(Path(sys.executable).parent), env["PATH"]])
    command = [sys.executable, "-m", "jupyterhub", "-f", str(config)]
    health = f"http://{settings.hub.ip}:{settings.hub.port}/services/diemcau/health"
    status = run_hub(command, env, settings.hub_dir, health, lambda: print_banner(settings, demo_logins))
    raise typer.Exit(status)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
