"""The progress ingest's hot path: short-lived caches, group commit, one-statement event inserts, the card index.

Speed itself is measured by ``bench/progress_ingest.py`` (docs/benchmarks.md); these tests pin down behaviour:
what the caches keep and for how long, that a shared commit answers each request with its own result and fails
a bad request alone, and that the lookups use their indexes on both backends.
"""

from __future__ import annotations

import threading
from concurrent.futures import wait

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.accounts import find_member
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.group_commit import GroupWriter
from diemcau.adapters.db.lecture_access import load_lecture_access
from diemcau.adapters.db.models import MemberRow
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.progress import load_progress, record_events, record_events_in
from diemcau.apps.api.caches import TtlCache, caches_for
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.settings import load_settings
from tests.apiclient import auth, seeded_client
from tests.seed import seed_small_province
from tests.transcript_fixtures import LECTURE_ID, seed_lecture

URL = f"/services/diemcau/api/lectures/{LECTURE_ID}/progress"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _beat(event_id: str, start: float, seq: int) -> ProgressEvent:
    return ProgressEvent(event_id, EventKind.HEARTBEAT, start, start + 15.0, seq)


def _body(*ids: str) -> dict:
    return {"events": [{"event_id": i, "kind": "heartbeat", "start": 0, "end": 60, "seq": 1} for i in ids]}


# --- the TTL cache ------------------------------------------------------------------------------------------


def test_cache_entry_expires_after_its_seconds() -> None:
    """Is a value served until its seconds are up, and reloaded after?"""
    clock = FakeClock()
    cache: TtlCache[str] = TtlCache(5.0, 10, clock)
    cache.put("a", "first")
    clock.now += 4.9
    assert cache.get("a") == "first"
    clock.now += 0.2
    assert cache.get("a") is None
    assert cache.get_or_load("a", lambda: "second") == "second" and cache.get("a") == "second"


def test_cache_is_bounded_dropping_the_oldest() -> None:
    """Does a full cache drop its oldest entry, never growing past its bound?"""
    cache: TtlCache[int] = TtlCache(60.0, 3, FakeClock())
    for n in range(5):
        cache.put(n, n)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(1) is None and cache.get(4) == 4


def test_zero_seconds_turns_the_cache_off() -> None:
    """With 0 seconds (the benchmark's baseline), is nothing kept?"""
    cache: TtlCache[str] = TtlCache(0.0, 10, FakeClock())
    assert cache.put("a", "x") == "x" and cache.get("a") is None and len(cache) == 0


def test_a_failed_load_is_not_cached() -> None:
    """Is an exception while loading passed on and the key left empty (a refusal is never remembered)?"""
    cache: TtlCache[str] = TtlCache(60.0, 10, FakeClock())

    def refuse() -> str:
        raise LookupError("not in the roster")

    with pytest.raises(LookupError):
        cache.get_or_load("a", refuse)
    assert cache.get("a") is None


def test_caches_are_per_database(settings, sqlite_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Do two databases in one process get separate caches, and one database always the same?"""
    from diemcau.adapters.db.engine import make_engine, make_sessionmaker

    other = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}"))
    assert caches_for(sqlite_factory, settings.perf) is caches_for(sqlite_factory, settings.perf)
    assert caches_for(sqlite_factory, settings.perf) is not caches_for(other, settings.perf)


# --- the caches in the API ----------------------------------------------------------------------------------


def _deactivate(factory: sessionmaker[Session], card: str) -> None:
    with transaction(factory) as session:
        member = find_member(session, card)
        assert member is not None
        member.active = False


@pytest.mark.parametrize("caller_seconds", ["0", "60"])
def test_a_deactivated_member_is_refused_within_the_cache_seconds(  # type: ignore[no-untyped-def]
    tmp_path, sqlite_factory, caller_seconds
) -> None:
    """Is a member deactivated in the roster refused at once without the cache, and still served from a warm
    cache (for at most ``perf.caller_seconds``) with it?"""
    settings = load_settings({"DIEMCAU_HOME": str(tmp_path / "var"), "DIEMCAU_PERF__CALLER_SECONDS": caller_seconds})
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture(sqlite_factory)
    with client:
        assert client.get(URL, headers=auth("member")).status_code == 200
        _deactivate(sqlite_factory, seeded["users"]["member"])
        expected = 403 if caller_seconds == "0" else 200
        assert client.get(URL, headers=auth("member")).status_code == expected
        caches_for(sqlite_factory, settings.perf).callers.clear()  # what expiry does after caller_seconds
        assert client.get(URL, headers=auth("member")).status_code == 403


def test_an_unknown_member_is_not_remembered(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a refused caller looked up again next time (so a member just added to the roster gets in at once)?"""
    client, _ = seeded_client(settings, sqlite_factory)
    with client:
        assert client.get(URL, headers=auth("inactive")).status_code == 403
    assert len(caches_for(sqlite_factory, settings.perf).callers) == 0


def test_lecture_visibility_comes_from_its_own_course(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Are a lecture's facts its own course's audience, status and duration — on both backends — and is a
    lecture without a row (unknown, or a publish under way) ``None``?"""
    seed_small_province(session_factory)
    seed_lecture(session_factory, "lec-a1", course_id="nq-cb-a1")
    seed_lecture(session_factory, "lec-xa", course_id="nq-xa-a", status="processing")
    a1, xa = load_lecture_access(session_factory, "lec-a1"), load_lecture_access(session_factory, "lec-xa")
    assert a1 is not None and a1.course_id == "nq-cb-a1" and a1.audience_paths == ("/tinh/xa-a/cb-a1/",)
    assert a1.status == "ready" and a1.duration_seconds == 600.0
    assert xa is not None and xa.audience_paths == ("/tinh/xa-a/",) and xa.status == "processing"
    assert load_lecture_access(session_factory, "no-such-lecture") is None


@pytest.mark.parametrize(("role", "status"), [("member", 200), ("member_b", 404), ("trainer", 200)])
def test_progress_posts_follow_the_one_course(  # type: ignore[no-untyped-def]
    settings, sqlite_factory, role: str, status: int
) -> None:
    """With the lecture's facts cached, is a member of another commune still refused (404) while the course's
    own members and trainers may post?"""
    client, _ = seeded_client(settings, sqlite_factory)
    seed_lecture(sqlite_factory)
    with client:
        for _ in range(2):  # the second request is served from the caches
            assert client.post(URL, json=_body(f"{role}-1"), headers=auth(role)).status_code == status


# --- recording events and group commit ----------------------------------------------------------------------


def test_one_batch_stores_new_events_once(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Are duplicate ids within a batch and ids already stored skipped by the one INSERT, on both backends?"""
    twice = [_beat("x", 0, 1), _beat("x", 0, 1), _beat("y", 15, 2)]
    first = record_events(session_factory, "a1001", "lec", 600.0, twice)
    again = record_events(session_factory, "a1001", "lec", 600.0, [_beat("y", 15, 2), _beat("z", 30, 3)])
    with session_factory() as session:
        stored = session.scalar(select(func.count()).select_from(ProgressEventRow))
    assert stored == 3 and first.watched_seconds == 30.0 and again.watched_seconds == 45.0
    assert again.resume_position == 45.0


def test_shared_commit_answers_each_request_with_its_own_progress(  # type: ignore[no-untyped-def]
    session_factory,
) -> None:
    """Do many concurrent submissions (two of them for the same member) all land, each future holding that
    member's own merged progress, in fewer commits than requests?"""
    writer = GroupWriter(session_factory, max_batch=64)
    gate = threading.Event()
    writer.submit(lambda session: gate.wait(10))  # holds the writer so the rest queue up and share commits
    futures = {m: writer.submit(lambda s, m=m: record_events_in(s, f"m{m}", "lec", 600.0, [_beat(f"e{m}", 0, 1)]))
               for m in range(20)}  # fmt: skip
    twice = writer.submit(lambda s: record_events_in(s, "m3", "lec", 600.0, [_beat("e3b", 15, 2)]))
    gate.set()
    wait([*futures.values(), twice], timeout=60)
    assert all(f.result().watched_seconds == 15.0 for f in futures.values())
    assert twice.result().watched_seconds == 30.0
    assert load_progress(session_factory, "m3", "lec").watched_seconds == 30.0
    assert writer.commits < 22


def test_a_failing_request_fails_alone(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """When one request in a shared commit raises, is it alone answered with the error and the others stored?"""
    writer = GroupWriter(sqlite_factory)
    gate = threading.Event()
    writer.submit(lambda session: gate.wait(10))

    def broken(session: Session) -> None:
        record_events_in(session, "bad", "lec", 600.0, [_beat("b", 0, 1)])
        raise ValueError("refused")

    good = [writer.submit(lambda s, m=m: record_events_in(s, f"g{m}", "lec", 600.0, [_beat("e", 0, 1)]))
            for m in range(3)]  # fmt: skip
    bad = writer.submit(broken)
    gate.set()
    wait([*good, bad], timeout=60)
    with pytest.raises(ValueError, match="refused"):
        bad.result()
    assert [f.result().watched_seconds for f in good] == [15.0, 15.0, 15.0]
    assert load_progress(sqlite_factory, "bad", "lec").watched_seconds == 0.0  # nothing half-written


def test_a_cancelled_request_is_not_written(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a request whose client went away before its turn skipped (never answered, never stored)?"""
    writer = GroupWriter(sqlite_factory)
    gate = threading.Event()
    held = writer.submit(lambda session: gate.wait(10))
    gone = writer.submit(lambda s: record_events_in(s, "gone", "lec", 600.0, [_beat("e", 0, 1)]))
    assert gone.cancel()
    gate.set()
    held.result(timeout=60)
    writer.submit(lambda session: None).result(timeout=60)
    assert load_progress(sqlite_factory, "gone", "lec").watched_seconds == 0.0


def test_the_writer_thread_stops_when_idle_and_starts_again(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does the writer's thread stop after its idle time and a later submission start a new one?"""
    writer = GroupWriter(sqlite_factory, idle_seconds=0.05)
    writer.submit(lambda session: None).result(timeout=30)
    first = writer._thread
    assert first is not None
    first.join(timeout=30)
    assert not first.is_alive()
    assert writer.submit(lambda s: record_events_in(s, "m", "lec", 600.0, [_beat("e", 0, 1)])).result(timeout=30)


def test_group_commit_off_writes_per_request(tmp_path, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """With ``perf.group_commit = false`` (the baseline), do posts still land, replays still count once?"""
    settings = load_settings({"DIEMCAU_HOME": str(tmp_path / "var"), "DIEMCAU_PERF__GROUP_COMMIT": "false"})
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture(sqlite_factory)
    with client:
        for _ in range(2):
            assert client.post(URL, json=_body("a", "b"), headers=auth("member")).json()["watched_seconds"] == 60.0
    assert load_progress(sqlite_factory, seeded["users"]["member"], LECTURE_ID).watched_seconds == 60.0


# --- the caller lookup uses an index ------------------------------------------------------------------------


def _plan(session: Session, statement) -> str:  # type: ignore[no-untyped-def]
    bind = session.get_bind()
    sql = str(statement.compile(bind, compile_kwargs={"literal_binds": True}))
    if bind.dialect.name == "sqlite":
        return " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask whether the index *can* serve
    return " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))


def test_card_lookup_uses_the_lowercase_index(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does looking a member up by card number (case-insensitively) search an index rather than scan every
    member, on both backends — and still find an upper-cased card from a lowercase hub name?"""
    seed_small_province(session_factory)
    with session_factory() as session:
        assert find_member(session, "a1001") is not None and find_member(session, " A1001 ") is not None
        plan = _plan(session, select(MemberRow.id).where(func.lower(MemberRow.card_number) == "a1001"))
    assert "ix_members_card_number_lower" in plan and "SCAN members" not in plan and "Seq Scan" not in plan
