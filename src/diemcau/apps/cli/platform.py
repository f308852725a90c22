"""``diemcau init`` and ``diemcau hub``: set up a data directory, and run the platform."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from diemcau.adapters import course_files
from diemcau.adapters.db.courses import UnknownAudienceError
from diemcau.adapters.passwords import SecretVerifier
from diemcau.apps import setup_steps
from diemcau.adapters.storage import Stores
from diemcau.apps.cli.common import command_or_exit, factory_or_exit, fail, queue_or_exit
from diemcau.settings import Settings


def init(demo: Annotated[bool, typer.Option(help="Also load the demo province, users and course.")] = False) -> None:
    """Create the data directory, migrate the database and load the courses folder (idempotent)."""
    cli = command_or_exit()
    settings, factory = cli.settings, cli.factory
    if demo:
        queue_or_exit(settings)  # the demo lecture is published through it
        from diemcau.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, DEMO_UNACTIVATED, make_demo_certificates, seed_demo

        verifier = SecretVerifier.from_settings(settings.auth)
        code = seed_demo(factory, settings.auth.activation_code_days, verifier=verifier)
        typer.echo("Demo province loaded. Logins (password for all: %s):" % DEMO_PASSWORD)
        for login in DEMO_LOGINS:
            typer.echo(f"  {login.username:<10} {login.role.value:<10} {login.description}")
        state = (
            f"activated (`diemcau user reset {DEMO_UNACTIVATED}` to try again)"
            if code is None
            else f"not activated yet: activation code {code}"
        )
        typer.echo(f"  {DEMO_UNACTIVATED:<10} {'member':<10} {state}")
        for made in make_demo_certificates(settings.certificates_dir):
            typer.echo(f"Demo signing certificate (self-signed) for the PDF reports: {made}")
        release_demo_quizzes(settings, factory)
        publish_demo(settings, factory, cli.stores)
    try:
        count = setup_steps.ensure_courses(settings, factory)
    except (course_files.CourseFileError, UnknownAudienceError) as error:
        fail(str(error))
    typer.echo(f"Data directory ready: {settings.home} ({count} course file(s) loaded from {settings.courses_dir})")


def release_demo_quizzes(settings: Settings, factory) -> None:  # type: ignore[no-untyped-def]
    """Release the demo course's quizzes through nbgrader (idempotent)."""
    from diemcau.demo.seed import DEMO_DIR
    from diemcau.quizzes.publish import release_course_quizzes

    forms = release_course_quizzes(settings, factory, DEMO_DIR / "courses")
    typer.echo(f"Demo quizzes released: {', '.join(f.quiz_id for f in forms) or 'none'}")


def publish_demo(settings: Settings, factory, stores: Stores) -> None:  # type: ignore[no-untyped-def]
    """Publish and transcribe the demo lecture, showing progress; a failure is reported, not fatal."""
    from diemcau.adapters.transcript_store import load_transcript
    from diemcau.demo.seed import publish_demo_lecture

    typer.echo("Publishing and transcribing the demo lecture (first time: about a minute) ...")
    shown: set[tuple[str, int]] = set()

    def show(record) -> None:  # type: ignore[no-untyped-def]
        key = (record.stage, int(record.progress) // 20)
        if key not in shown:
            shown.add(key)
            typer.echo(f"  {record.stage or record.status}: {record.progress:.0f}%")

    record = publish_demo_lecture(settings, factory, stores, show)
    if record.status != "ready":
        typer.secho(f"Demo lecture not published: {record.error}", fg=typer.colors.YELLOW, err=True)
        return
    transcript = load_transcript(stores.transcripts, record.id)
    state = {None: "not transcribed", "whisper": "transcribed by Whisper"}.get(
        transcript and transcript.source, "transcript: reference captions (Whisper's kept as transcript.prev.json)"
    )
    typer.echo(f"Demo lecture {record.id}: {record.status}, {state}")


def hub_config_path() -> Path:
    """hub_config/jupyterhub_config.py of this checkout (the package is installed in editable mode)."""
    here = Path.cwd() / "hub_config" / "jupyterhub_config.py"
    return here if here.exists() else Path(__file__).resolve().parents[4] / "hub_config" / "jupyterhub_config.py"


def print_banner(settings: Settings, demo_logins: bool) -> None:
    """Tell the person at the terminal where to go and, for the demo, how to log in."""
    typer.secho(f"\nĐiểm Cầu is running: http://{settings.hub.ip}:{settings.hub.port}/   (Ctrl-C to stop)", bold=True)
    if os.geteuid() != 0:
        typer.secho(
            "Not running as root: members can study, but staff servers (dashboards, studio) will not start, "
            "as each needs a system user of its own (docs/security/isolation.md).",
            fg="yellow",
        )
    if demo_logins:
        from diemcau.demo.seed import DEMO_LOGINS, DEMO_PASSWORD

        typer.echo(f"Demo logins (password {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            typer.echo(f"  {login.username:<10} {login.role.value:<10} {login.description}")
    typer.echo("")


def hub(
    demo_logins: Annotated[bool, typer.Option(help="Print the demo logins once the hub is up.")] = False,
) -> None:
    """Run JupyterHub with its proxy and the Điểm Cầu services (Ctrl-C stops everything)."""
    from diemcau.apps.hub_runner import busy_ports, run_hub

    settings, factory = factory_or_exit()
    ports = {
        "port": settings.hub.port,
        "hub_port": settings.hub.hub_port,
        "proxy_api_port": settings.hub.proxy_api_port,
    }
    if not settings.hub.api_url:  # else the API replicas run elsewhere, started by the operator
        ports["api_port"] = settings.hub.api_port
    busy = busy_ports(ports)
    if busy:
        taken = ", ".join(f"hub.{name} = {port}" for name, port in busy.items())
        fail(
            f"Port(s) already in use: {taken}. Stop the other hub (or a leftover configurable-http-proxy), "
            f"or choose free ports, e.g. DIEMCAU_HUB__{next(iter(busy)).upper()}=<port>."
        )
    setup_steps.ensure_courses(settings, factory)
    setup_steps.ensure_api_token(settings)
    config = hub_config_path()
    repo = config.parent.parent
    env = dict(os.environ)
    env["DIEMCAU_HOME"] = str(settings.home)
    env["DIEMCAU_CONTENT__COURSES_DIR"] = str(settings.courses_dir)
    env["DIEMCAU_CONTENT__TRANSCRIPTS_DIR"] = str(settings.transcripts_dir)  # settings handed on, not a store
    env["PATH"] = os.pathsep.join([str(repo / "node_modules" / ".bin"), str(Path(sys.executable).parent), env["PATH"]])
    command = [sys.executable, "-m", "jupyterhub", "-f", str(config)]
    health = f"http://{settings.hub.ip}:{settings.hub.port}/services/diemcau/health"
    status = run_hub(command, env, settings.hub_dir, health, lambda: print_banner(settings, demo_logins))
    raise typer.Exit(status)
