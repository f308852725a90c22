"""Progress is bounded by real time: coverage grows no faster than the player's fastest speed allows since the
member's first contact with the lecture (``core.progress.Pace``), plus a slack.

The rule itself is tested as a pure function; then through the real app on both backends, by the FastAPI route
and by the fast path (they share ``progress.ingest``), with the API's clock (``ApiContext.now``) moved by hand:
honest play at 2×, an offline queue replayed later, the download as a first contact, and the forged heartbeat
``0–86400`` right after opening the lecture (the finding: it gave 100 %).
"""

from __future__ import annotations

import datetime as dt
import logging
import math

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from alembic import command
from sqlalchemy import text

from diemcau.adapters.db.engine import alembic_config, ensure_schema, make_engine, make_sessionmaker, transaction
from diemcau.adapters.db.progress import EventsPost, load_first_contact, load_progress, load_refusals, record_posts_in
from diemcau.apps.api.pages.player import SPEEDS
from diemcau.core.progress import (
    MAX_PLAYBACK_SPEED,
    SLACK_SHARE,
    EventKind,
    Pace,
    ProgressEvent,
    summarise,
    summarise_paced,
    within_allowance,
)
from diemcau.dashboards import lecture_view
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.data_dirs import data_dir_environ
from tests.media_fixtures import FAKE_SHA, seed_lecture_media
from tests.transcript_fixtures import LECTURE_ID

URL = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
PAGE = f"{PREFIX}/lectures/{LECTURE_ID}"
DOWNLOAD = f"{PREFIX}/api/media/{LECTURE_ID}/audio.m4a"
DURATION = 600.0  # the seeded lecture's
SLACK = Pace.for_heartbeat(15).slack_seconds  # the default heartbeat


class ManualClock:
    """The API's clock (``ApiContext.now``), moved by hand: real time passes only when the test says so."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=seconds)


# --- the rule, pure -----------------------------------------------------------------------------------------


def test_the_bound_is_the_players_fastest_speed_plus_two_heartbeats() -> None:
    """Is the top speed the player's menu's (one constant), the slack two heartbeats at it, and the allowance
    that speed times the time since first contact — never negative if a clock steps back?"""
    pace = Pace.for_heartbeat(15)
    assert MAX_PLAYBACK_SPEED == max(SPEEDS) == pace.max_speed == 2.0 and pace.slack_seconds == 60.0
    opened = dt.datetime(2026, 12, 1, 8, 0)
    assert pace.allowance(opened, opened + dt.timedelta(minutes=5)) == 660.0
    assert pace.allowance(opened, opened - dt.timedelta(minutes=5)) == 60.0


def test_new_coverage_is_cut_where_the_allowance_runs_out() -> None:
    """Are spans kept in the order played until the allowance is spent, the last one cut, the rest refused —
    while stretches watched before cost nothing (rewatching is never refused)?"""
    paced = within_allowance([(0, 100), (100, 200), (300, 400)], prior=[], allowance=150)
    assert paced.spans == ((0, 100), (100, 150)) and paced.refused_seconds == 150
    rewatch = within_allowance([(0, 100), (100, 130)], prior=[(0, 120)], allowance=125)
    assert rewatch.spans == ((120, 125),) and rewatch.refused_seconds == 5
    over = within_allowance([(0, 50)], prior=[(0, 300)], allowance=100)  # already past it: rewatching is free
    assert over.spans == () and over.refused_seconds == 0


def test_paced_summary_follows_the_order_played_and_changes_nothing_unbounded() -> None:
    """Is what a bounded post keeps decided by ``seq`` (the order played), not by arrival, and is the unbounded
    summary the plain one?"""
    events = [
        ProgressEvent("late", EventKind.HEARTBEAT, 300, 400, 2),
        ProgressEvent("early", EventKind.HEARTBEAT, 0, 100, 1),
    ]
    progress, refused = summarise_paced(events, DURATION, allowance=120)
    assert progress.intervals == ((0, 100), (300, 320)) and refused == 80 and progress.resume_position == 400
    assert summarise_paced(events, DURATION, allowance=math.inf) == (summarise(events, DURATION), 0.0)


# --- through the app, route and fast path, both backends -----------------------------------------------------


@pytest.fixture(params=["route", "fast_path"])
def app(request, session_factory, tmp_path):  # type: ignore[no-untyped-def]
    """(client, clock, factory, users) on the seeded province with a ready 600 s lecture (its media folder
    holding an audio download), the progress post served by the FastAPI route or by the fast path."""
    fast = str(request.param == "fast_path").lower()
    settings = load_settings(data_dir_environ(tmp_path, DIEMCAU_PERF__FAST_PROGRESS=fast))
    clock = ManualClock()
    client, seeded = seeded_client(settings, session_factory, now=clock)
    seed_lecture_media(settings, session_factory)
    (settings.media_dir / FAKE_SHA / "audio.m4a").write_bytes(b"\0" * 1024)
    with client:
        yield client, clock, session_factory, seeded["users"]


def _beat(event_id: str, start: float, end: float, seq: int, kind: str = "heartbeat") -> dict:
    return {"event_id": event_id, "kind": kind, "start": start, "end": end, "seq": seq}


def _post(client: TestClient, *events: dict, role: str = "member") -> dict:
    response = client.post(URL, json={"events": list(events)}, headers=auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def _open_player(client: TestClient, role: str = "member") -> None:
    assert client.get(PAGE, headers=auth(role, Accept="text/html")).status_code == 200


def _queue(start: float, end: float, step: float, seq: int = 1, prefix: str = "q") -> list[dict]:
    """The player's events for playing ``start``–``end`` at 1×, one heartbeat every ``step`` seconds."""
    spans = [(a, min(a + step, end)) for a in range(int(start), int(end), int(step))]
    return [_beat(f"{prefix}{i}", a, b, seq + i) for i, (a, b) in enumerate(spans)]


def test_honest_play_at_twice_the_speed_counts_in_full(app) -> None:  # type: ignore[no-untyped-def]
    """Does a member who opens the player and plays the whole lecture at 2× (30 s of lecture every 15 s
    heartbeat) get every second counted, with nothing refused?"""
    client, clock, factory, users = app
    _open_player(client)
    for i in range(20):
        clock.advance(15)
        answer = _post(client, _beat(f"b{i}", 30 * i, 30 * (i + 1), i + 1, "ended" if i == 19 else "heartbeat"))
    assert answer["coverage_percent"] == 100.0
    assert load_progress(factory, users["member"], LECTURE_ID).watched_seconds == DURATION
    assert load_refusals(factory, LECTURE_ID) == (0.0, 0)


def test_forged_heartbeat_after_opening_is_refused_logged_and_counted(  # type: ignore[no-untyped-def]
    app, caplog
) -> None:
    """Right after opening a lecture, does one heartbeat ``0–86400`` gain only the slack (not 100 %), with the
    refused seconds in the log and on the lecture's analytics for its trainers?"""
    client, clock, factory, users = app
    _open_player(client)
    clock.advance(1)
    with caplog.at_level(logging.WARNING, logger="diemcau.adapters.db.progress"):
        answer = _post(client, _beat("forged", 0, 86_400, 1))
    allowed = 2 * 1 + SLACK
    assert answer["watched_seconds"] == allowed and answer["coverage_percent"] < 11
    assert load_refusals(factory, LECTURE_ID) == (DURATION - allowed, 1)
    assert any(users["member"] in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    analytics = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}/analytics", headers=auth("trainer")).json()
    assert analytics["refused_seconds"] == DURATION - allowed and analytics["refused_posts"] == 1
    shown = lecture_view.refused_text(analytics)  # the trainers' notebook: 538 s in 1 post
    assert "9 phút" in shown and "1 lần" in shown and lecture_view.refused_text({"refused_seconds": 0.0}) == ""


def test_offline_queue_replayed_later_counts_up_to_the_bound(app) -> None:  # type: ignore[no-untyped-def]
    """Is a queue played offline and sent later (as the player sends it, in batches) counted whole when real time
    covers it, and up to the bound when it claims more — the bound taken when the queue arrives, so what the
    member plays afterwards counts again?"""
    client, clock, factory, users = app
    _open_player(client)
    clock.advance(12 * 60)  # offline: the whole lecture played at 1× (10 min), then back online
    queue = _queue(0, DURATION, 15)
    _post(client, *queue[:20])
    assert _post(client, *queue[20:])["coverage_percent"] == 100.0
    assert load_refusals(factory, LECTURE_ID) == (0.0, 0)

    _open_player(client, "secretary")  # another member of the cell: offline 2 min, a queue claiming 10
    clock.advance(120)
    allowed = 2 * 120 + SLACK
    assert _post(client, *_queue(0, DURATION, 15), role="secretary")["watched_seconds"] == allowed
    clock.advance(180)  # three minutes later, still playing on from where the bound cut
    later = _queue(allowed, DURATION, 15, seq=100, prefix="later")
    assert _post(client, *later, role="secretary")["coverage_percent"] == 100.0
    assert load_refusals(factory, LECTURE_ID) == (DURATION - allowed, 1)


def test_downloading_for_offline_study_is_a_first_contact(app) -> None:  # type: ignore[no-untyped-def]
    """Does downloading the audio for offline study start the clock like opening the player, so a whole
    lecture listened to offline and reported later counts?"""
    client, clock, factory, users = app
    assert client.get(DOWNLOAD, headers=auth("member")).status_code == 200
    clock.advance(15 * 60)
    assert _post(client, *_queue(0, DURATION, 15))["coverage_percent"] == 100.0
    assert load_first_contact(factory, users["member"], LECTURE_ID) == clock.at.replace(tzinfo=None) - dt.timedelta(
        minutes=15
    )


def test_without_a_first_contact_the_first_post_is_it(app) -> None:  # type: ignore[no-untyped-def]
    """With no page opened and nothing downloaded, is the first post the first contact (only the slack counts
    at once), and does the clock then run from it?"""
    client, clock, factory, users = app
    assert _post(client, _beat("first", 0, 86_400, 1))["watched_seconds"] == SLACK
    clock.advance(5 * 60)
    assert _post(client, *_queue(0, DURATION, 30, seq=10))["coverage_percent"] == 100.0


def test_opening_again_keeps_the_first_contact(app) -> None:  # type: ignore[no-untyped-def]
    """Does reopening the player (or downloading) later leave the first contact where it was, and does only
    opening a lecture leave the portal saying it is not watched yet?"""
    client, clock, factory, users = app
    _open_player(client)
    first = clock.at.replace(tzinfo=None)
    clock.advance(3600)
    _open_player(client)
    assert client.get(DOWNLOAD, headers=auth("member")).status_code == 200
    assert load_first_contact(factory, users["member"], LECTURE_ID) == first
    portal = client.get(f"{PREFIX}/", headers=auth("member", Accept="text/html"))
    assert portal.status_code == 200 and "Chưa xem" in portal.text and "Đã theo dõi 0%" not in portal.text


# --- the batched write keeps its fixed number of statements ---------------------------------------------------


def _statements_for(factory, posts: list[EventsPost]) -> int:  # type: ignore[no-untyped-def]
    """How many statements recording ``posts`` as one batch sends (the group writer's path), ``BEGIN`` aside."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    with transaction(factory) as session:
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", count)
        record_posts_in(session, posts)
        event.remove(connection, "before_cursor_execute", count)
    return len(sent)


def _batch(size: int, at: dt.datetime) -> list[EventsPost]:
    """``size`` members on a new lecture each: half honest, half forging a day at once; all bounded by pace."""
    pace = Pace.for_heartbeat(15)
    events = {
        False: [ProgressEvent("h", EventKind.HEARTBEAT, 0, 30, 1)],
        True: [ProgressEvent("f", EventKind.HEARTBEAT, 0, 86_400, 1)],
    }
    return [EventsPost(f"m{size}-{n}", f"lec{n % 3}", DURATION, events[n % 2 == 1], at, pace) for n in range(size)]


def test_a_batch_with_refusals_keeps_its_few_statements(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does a batch that dates first contacts and refuses forged claims (counted per lecture) still write in the
    same few statements whatever its size — six at most: read, events, new rows, changed rows, replays,
    refusals — on both backends?"""
    at = dt.datetime(2026, 12, 1, 8, 0)
    small, large = _statements_for(session_factory, _batch(4, at)), _statements_for(session_factory, _batch(60, at))
    assert small == large and large <= 6
    assert load_refusals(session_factory, "lec1")[1] == 10 + 1  # the forged posts on lec1: 10 of 60, 1 of 4


def test_the_upgrade_dates_existing_progress_so_nobody_loses_it(db_url: str) -> None:
    """Does the upgrade give a row from before it a first contact as if its watched seconds had been played at 2×
    just before (in UTC, whatever the server's time zone), so its member keeps the progress and plays on at once —
    on both backends?"""
    engine = make_engine(db_url)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "progress1")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lecture_progress (member, lecture_id, intervals, watched_seconds,"
                " coverage_percent, resume_position, last_seq) VALUES ('a1001', 'lec', '[[0, 300]]',"
                " 300, 50, 300, 3)"
            )
        )
    upgraded = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ensure_schema(engine)
    contact = load_first_contact(make_sessionmaker(engine), "a1001", "lec")
    engine.dispose()
    assert contact is not None and abs((upgraded - dt.timedelta(seconds=150) - contact).total_seconds()) < 60
    assert Pace.for_heartbeat(15).allowance(contact, upgraded) >= 300


def test_on_a_short_lecture_the_slack_is_a_tenth_of_it_so_one_forged_post_cannot_complete_it() -> None:
    """On the demo's 46 s lecture two heartbeats of slack (60 s) would cover all of it: is the slack cut to a
    tenth of the lecture, so a forged post right after opening the player gets far from the 95 % that completes
    it, while honest play at 2x still counts in full?"""
    short = 45.7
    pace = Pace.for_heartbeat(15, short)
    assert pace.slack_seconds == pytest.approx(short * SLACK_SHARE) and Pace.for_heartbeat(15, 600).slack_seconds == 60
    opened = dt.datetime(2026, 12, 1, 8, 0)
    forged = within_allowance(
        [(0.0, short)], prior=[], allowance=pace.allowance(opened, opened + dt.timedelta(seconds=0.03))
    )
    assert sum(b - a for a, b in forged.spans) < 0.2 * short and forged.refused_seconds > 0.8 * short
    # honest 2x play: each heartbeat reports 30 s of lecture after 15 s of real time
    watched = []
    for beat in range(1, 3):
        span = (30.0 * (beat - 1), min(short, 30.0 * beat))
        honest = within_allowance(
            [span], prior=watched, allowance=pace.allowance(opened, opened + dt.timedelta(seconds=15 * beat))
        )
        assert honest.refused_seconds == 0
        watched = sorted([*watched, *honest.spans])
