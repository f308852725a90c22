"""Helpers shared by the CLI's command groups: settings, the database, the file stores, failing with a clear
message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import typer
from huey import Huey
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.storage import Stores, stores_of
from diemcau.apps import setup_steps
from diemcau.jobs.queue import QueueUnavailable, check_queue
from diemcau.settings import Settings, SettingsError, load_settings


def fail(message: str) -> NoReturn:
    """Print ``message`` to stderr and exit with status 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def settings_or_exit() -> Settings:
    """Load the settings, or exit with the message that names the bad key."""
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def factory_or_exit() -> tuple[Settings, sessionmaker[Session]]:
    """Settings plus a session factory on a ready (created, migrated) data directory."""
    settings = settings_or_exit()
    setup_steps.ensure_data_dir(settings)
    return settings, setup_steps.ensure_database(settings)


@dataclass(frozen=True)
class Command:
    """What one command works with, built once per command (``command_or_exit``): the settings, a session
    factory on the ready data directory, and the file stores (``stores_of``: where media, transcripts and
    materials live), which the command hands to everything that reads or writes them."""

    settings: Settings
    factory: sessionmaker[Session]
    stores: Stores


def command_or_exit() -> Command:
    """The command's settings, database and stores on a ready (created, migrated) data directory."""
    settings, factory = factory_or_exit()
    return Command(settings, factory, stores_of(settings))


def queue_or_exit(settings: Settings) -> Huey:
    """The job queue of ``settings``, once it answers; else exit with one line naming it (without its password)."""
    try:
        return check_queue(settings)
    except QueueUnavailable as error:
        fail(str(error))
