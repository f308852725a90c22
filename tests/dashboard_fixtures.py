"""The API service on a random loopback port over a seeded SQLite database, for the dashboard notebooks.

The province of ``tests/seed.py`` plus one ready 600 s lecture in course ``nq-cb-a1`` (audience: cell A1) and a
second one, so the dashboards have numbers to show: a1001 watched all of both (completed, on 5 March), a1002
the first half of the first (in progress); a1003 is inactive and never counted. Course nq-xa-a (deadline
passed) gets a lecture nobody watched.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LectureRow
from diemcau.adapters.db.models_progress import LectureProgressRow
from diemcau.adapters.db.progress import record_events
from diemcau.apps.api.app import create_app
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.settings import Settings
from tests.apiclient import PREFIX, token_of
from tests.fakes import StaticTokenIdentity
from tests.seed import TODAY, seed_small_province
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

SECOND_LECTURE = "lec-two"
WATCHED_AT = dt.datetime(2026, 3, 5, 3, 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def watch(
    factory: sessionmaker[Session], card: str, lecture_id: str, start: float, end: float, event: str = "e1"
) -> None:
    """Record that ``card`` played ``start``–``end`` of a lecture (600 s long), as the player would report it."""
    record_events(factory, card, lecture_id, 600.0, [ProgressEvent(event, EventKind.HEARTBEAT, start, end, 1)])


def seed_cell_course(factory: sessionmaker[Session]) -> dict:
    """The small province, two ready lectures in nq-cb-a1, and the progress described above."""
    seeded = seed_small_province(factory)
    seed_lecture(factory)
    seed_lecture(factory, SECOND_LECTURE)
    seed_lecture(factory, "lec-xa", course_id="nq-xa-a")  # nobody watched it: commune A's course is overdue
    with transaction(factory) as session:
        session.get(LectureRow, SECOND_LECTURE).title = "Bài giảng 2"
    watch(factory, "a1001", LECTURE_ID, 0, 600)
    watch(factory, "a1001", SECOND_LECTURE, 0, 600)
    watch(factory, "a1002", LECTURE_ID, 0, 300)
    with transaction(factory) as session:  # a1001 finished watching on 5 March (UTC 03:00 is 10:00 in Vietnam)
        session.execute(
            update(LectureProgressRow).where(LectureProgressRow.member == "a1001").values(updated_at=WATCHED_AT)
        )
    return seeded


@dataclass(frozen=True)
class RunningApi:
    """Where the API answers, and the seeded keys."""

    url: str
    seeded: dict


@contextmanager
def running_api(settings: Settings, factory: sessionmaker[Session], seeded: dict) -> Iterator[RunningApi]:
    """The real API app under uvicorn on a random loopback port (tokens mapped by ``StaticTokenIdentity``)."""
    identity = StaticTokenIdentity({token_of(role): name for role, name in seeded["users"].items()})
    app = create_app(settings, identity, session_factory=factory, today=lambda: TODAY)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield RunningApi(f"http://127.0.0.1:{port}{PREFIX}", seeded)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
