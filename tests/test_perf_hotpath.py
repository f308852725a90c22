"""The progress ingest's hot path: short-lived caches, group commit, one-statement event inserts, the card index.

Speed itself is measured by ``bench/progress_ingest.py`` (docs/benchmarks.md); these tests pin down behaviour:
what the caches keep and for how long, that a shared commit answers each request with its own result and fails
a bad request alone, and that the lookups use their indexes on both backends.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import wait

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import caller_lookup
from diemcau.adapters.db.accounts import find_member
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.group_commit import GroupWriter, arrival_rate, gather_wait
from diemcau.adapters.db.models import MemberRow
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.models_replays import ReplayBucketRow
from diemcau.adapters.db.progress import _READ_ROWS, EventsPost, load_progress, record_events, record_posts_in
from diemcau.adapters.db.visibility import load_lecture as load_lecture_access
from diemcau.apps.api.plumbing.caches import ApiCaches, TtlCache
from diemcau.core.progress import EventKind, ProgressEvent
from diemcau.settings import load_settings
from tests.apiclient import auth, runtime_of, seeded_client
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


def _post(member: str, *events: ProgressEvent, lecture: str = "lec") -> EventsPost:
    return EventsPost(member, lecture, 600.0, events)


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


def test_jitter_spreads_expiry_below_the_seconds_never_above() -> None:
    """With jitter, does an entry drawn at the top of the spread expire early (a crowd's entries no longer all
    expire at once) while one drawn at the bottom lives its full seconds (the revocation bound holds)?"""
    clock, draws = FakeClock(), iter([1.0, 0.0])
    cache: TtlCache[str] = TtlCache(10.0, 10, clock, jitter=0.2, rand=lambda: next(draws))
    cache.put("early", "x")
    cache.put("full", "y")
    clock.now += 8.1
    assert (cache.get("early"), cache.get("full")) == (None, "y")
    clock.now += 2.0
    assert cache.get("full") is None


def test_api_caches_spread_a_crowds_expiry() -> None:
    """Do the API's own caches draw lifetimes (a thousand members stored in the same instant expire over a
    stretch of time, within the configured seconds)?"""
    callers = ApiCaches.from_settings(load_settings({}).perf).callers
    for n in range(1000):
        callers.put(f"m{n}", n)
    expiries = [expiry for expiry, _value in callers._entries.values()]
    assert max(expiries) - min(expiries) > 0.1 * callers.seconds
    assert max(expiries) <= time.monotonic() + callers.seconds


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


def test_caches_are_per_app(settings, sqlite_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Do two apps in one process (here two databases) get separate caches, and one app always the same?"""
    from diemcau.adapters.db.engine import ensure_schema, make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    ensure_schema(engine)
    client, _ = seeded_client(settings, sqlite_factory)
    other, _ = seeded_client(settings, make_sessionmaker(engine))
    seed_lecture(sqlite_factory)
    assert client.get(URL, headers=auth("member")).status_code == 200
    assert client.get(URL, headers=auth("member")).status_code == 200
    caches, facts = runtime_of(client).caches, runtime_of(client).visibility.cache
    assert caches is runtime_of(client).caches and len(caches.callers) == 1 and len(facts) == 1
    assert runtime_of(other).visibility.cache is not facts and len(runtime_of(other).visibility.cache) == 0
    assert runtime_of(other).caches is not caches and len(runtime_of(other).caches.callers) == 0


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
        runtime_of(client).caches.callers.clear()  # what expiry does after caller_seconds
        assert client.get(URL, headers=auth("member")).status_code == 403


def test_an_unknown_member_is_not_remembered(settings, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a refused caller looked up again next time (so a member just added to the roster gets in at once)?"""
    client, _ = seeded_client(settings, sqlite_factory)
    with client:
        assert client.get(URL, headers=auth("inactive")).status_code == 403
    assert len(runtime_of(client).caches.callers) == 0


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


def _mixed_posts(lecture: str) -> list[EventsPost]:
    """Posts as a busy batch brings them: the same member twice, an offline queue replayed (ids already seen,
    in this post and the last), out-of-order seqs, a seek, overlaps that replay stretches, two lectures."""
    seek = ProgressEvent("s1", EventKind.SEEK, 0, 300, 9)
    ended = ProgressEvent("end", EventKind.ENDED, 585, 600, 4)
    other = f"{lecture}-b"
    return [
        _post("m1", _beat("a", 0, 1), _beat("b", 15, 2), lecture=lecture),
        _post("m2", _beat("a", 100, 1), lecture=lecture),
        _post("m1", _beat("b", 15, 2), _beat("c", 10, 3), _beat("c", 10, 3), lecture=lecture),  # b known, c twice
        _post("m1", _beat("a", 40, 1), lecture=other),  # same member and id, other lecture: new
        _post("m2", _beat("z", 90, 0), seek, lecture=lecture),
        _post("m2", _beat("y", 50, 5), ended, lecture=lecture),  # older seq than the seek: resume stays
        _post("m3", _beat("a", 0, 1), lecture=lecture),
        _post("m3", _beat("a", 0, 1), lecture=lecture),  # the whole post replayed
        _post("m1", _beat("d", 0, 7), _beat("e", 5, 6), lecture=other),
    ]


def _stored(session: Session, lecture: str) -> tuple[list, int, list]:
    lectures = (lecture, f"{lecture}-b")
    summaries = session.execute(
        text(
            "SELECT member, substr(lecture_id, 2), intervals, watched_seconds, coverage_percent, resume_position,"
            " last_seq FROM lecture_progress WHERE lecture_id IN (:a, :b) ORDER BY 1, 2"
        ),
        {"a": lectures[0], "b": lectures[1]},
    ).all()
    events = session.scalar(select(func.count()).where(ProgressEventRow.lecture_id.in_(lectures)))
    replays = session.execute(
        select(func.substr(ReplayBucketRow.lecture_id, 2), ReplayBucketRow.bucket, ReplayBucketRow.replayed_seconds)
        .where(ReplayBucketRow.lecture_id.in_(lectures))
        .order_by(ReplayBucketRow.lecture_id, ReplayBucketRow.bucket)
    ).all()
    return [tuple(row) for row in summaries], events, [tuple(row) for row in replays]


def test_a_batch_stores_and_answers_as_posts_one_by_one_would(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does recording a busy batch in one go (what the group writer does) give every post the answer, and leave
    the summaries, events and replay counters, that recording the posts one after another gives, on both
    backends? (Lecture ids ``Slec``/``Blec`` keep the two runs apart; ``substr`` drops the letter to compare.)"""
    for lecture in ("Slec", "Blec"):  # an id stored before, in both runs
        record_events(session_factory, "m1", lecture, 600.0, [_beat("a", 0, 1)])
    one_by_one = [
        record_events(session_factory, p.member, p.lecture_id, p.duration, p.events) for p in _mixed_posts("Slec")
    ]
    with transaction(session_factory) as session:
        batched = record_posts_in(session, _mixed_posts("Blec"))
    assert batched == one_by_one
    assert [p.resume_position for p in batched[4:6]] == [300.0, 300.0]  # the late, older event moves nothing
    with session_factory() as session:
        assert _stored(session, "Blec") == _stored(session, "Slec")
        assert _stored(session, "Blec")[2]  # the batch did replay stretches


def test_plain_work_and_batched_items_keep_their_order(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """In one shared commit, does plain work see the batched items queued before it, and not those after?"""
    writer = GroupWriter(sqlite_factory)
    gate = threading.Event()
    writer.submit(lambda session: gate.wait(10))
    first = writer.submit_item(record_posts_in, _post("o", _beat("a", 0, 1)))
    seen = writer.submit(lambda s: s.scalar(select(func.count()).select_from(ProgressEventRow)))
    after = writer.submit_item(record_posts_in, _post("o", _beat("b", 15, 2)))
    gate.set()
    assert first.result(timeout=60).watched_seconds == 15.0
    assert (seen.result(timeout=60), after.result(timeout=60).watched_seconds) == (1, 30.0)


def test_shared_commit_answers_each_request_with_its_own_progress(  # type: ignore[no-untyped-def]
    session_factory,
) -> None:
    """Do many concurrent submissions (two of them for the same member) all land, each future holding that
    member's own merged progress, in fewer commits than requests?"""
    writer = GroupWriter(session_factory, max_batch=64)
    gate = threading.Event()
    writer.submit(lambda session: gate.wait(10))  # holds the writer so the rest queue up and share commits
    futures = {m: writer.submit_item(record_posts_in, _post(f"m{m}", _beat(f"e{m}", 0, 1))) for m in range(20)}
    twice = writer.submit_item(record_posts_in, _post("m3", _beat("e3b", 15, 2)))
    gate.set()
    wait([*futures.values(), twice], timeout=60)
    assert all(f.result().watched_seconds == 15.0 for f in futures.values())
    assert twice.result().watched_seconds == 30.0
    assert load_progress(session_factory, "m3", "lec").watched_seconds == 30.0
    assert writer.commits < 22


def test_writes_arriving_back_to_back_wait_to_share_a_commit(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """With ``gather_seconds``, is a write that follows the previous batch closely held for the next one, so two
    writes a little apart share one commit (without it, each would commit alone)?"""
    writer = GroupWriter(sqlite_factory, gather_seconds=1.0)
    assert writer.submit_item(record_posts_in, _post("w", _beat("a", 0, 1))).result(timeout=30).watched_seconds == 15
    second = writer.submit_item(record_posts_in, _post("w", _beat("b", 15, 2)))
    time.sleep(0.05)
    third = writer.submit_item(record_posts_in, _post("w", _beat("c", 30, 3)))
    assert (second.result(timeout=30).watched_seconds, third.result(timeout=30).watched_seconds) == (30.0, 45.0)
    assert writer.commits == 2


def test_a_failing_request_fails_alone(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """When one request in a shared commit raises, is it alone answered with the error and the others stored?"""
    writer = GroupWriter(sqlite_factory)
    gate = threading.Event()
    writer.submit(lambda session: gate.wait(10))

    def broken(session: Session) -> None:
        record_posts_in(session, [_post("bad", _beat("b", 0, 1))])
        raise ValueError("refused")

    good = [writer.submit_item(record_posts_in, _post(f"g{m}", _beat("e", 0, 1))) for m in range(3)]
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
    gone = writer.submit_item(record_posts_in, _post("gone", _beat("e", 0, 1)))
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
    assert writer.submit_item(record_posts_in, _post("m", _beat("e", 0, 1))).result(timeout=30)


def test_closing_the_writer_answers_what_it_holds_then_stops(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does ``close`` (the app's shutdown) return only once every write queued before it is committed and
    answered, with the thread stopped — also when two close at once — and does a later write start it again?"""
    writer = GroupWriter(sqlite_factory)
    gate = threading.Event()
    held = writer.submit(lambda session: gate.wait(30))  # the thread is busy: what follows queues up
    queued = [writer.submit(lambda session, n=n: n) for n in range(20)]
    thread = writer._thread
    closers = [threading.Thread(target=writer.close) for _ in range(2)]
    for closer in closers:
        closer.start()
    gate.set()
    for closer in closers:
        closer.join(timeout=30)
        assert not closer.is_alive()
    assert held.result(timeout=0) is True and [f.result(timeout=0) for f in queued] == list(range(20))
    assert writer._thread is None and thread is not None and not thread.is_alive()
    writer.close()  # nothing running: returns at once
    assert writer.submit(lambda session: "again").result(timeout=30) == "again"
    writer.close()
    assert writer._thread is None


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
    with session_factory() as session:  # the caller lookup, many cards at once (coalesced cache misses)
        plan = _plan(session, caller_lookup._QUERY.params(usernames=["a1001", "a1002"]))
    assert "ix_members_card_number_lower" in plan and "SCAN members" not in plan and "Seq Scan" not in plan, plan


def test_a_batch_reads_its_summaries_through_the_primary_key(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Does the batch's summary read search the (member, lecture) key rather than scan every member's progress,
    on both backends?"""
    statement = _READ_ROWS.params(members=["a1001", "a1002"], lectures=["lec"])
    with session_factory() as session:
        plan = _plan(session, statement)
    assert "sqlite_autoindex_lecture_progress_1" in plan or "lecture_progress_pkey" in plan, plan
    assert "SCAN lecture_progress" not in plan and "Seq Scan" not in plan, plan


def test_a_lone_write_meeting_a_row_inserted_meanwhile_runs_again(session_factory) -> None:  # type: ignore[no-untyped-def]
    """When a post meets a unique-key conflict (its member's row inserted by another process between its read and
    its insert: the player page's first contact, another API process), does it run again and land, not a 500?"""
    from sqlalchemy.exc import IntegrityError

    writer = GroupWriter(session_factory)
    runs = []

    def conflicting_once(session, posts):  # type: ignore[no-untyped-def]
        runs.append(len(posts))
        if len(runs) == 1:
            raise IntegrityError("INSERT INTO lecture_progress", {}, Exception("duplicate key value"))
        return record_posts_in(session, posts)

    progress = writer.submit_item(conflicting_once, _post("r", _beat("a", 0, 1))).result(timeout=60)
    assert runs == [1, 1] and progress.watched_seconds == 15.0
    assert load_progress(session_factory, "r", "lec").watched_seconds == 15.0

    def always_conflicting(session, posts):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT INTO lecture_progress", {}, Exception("duplicate key value"))

    with pytest.raises(IntegrityError):  # a real bug still surfaces, after one more try
        writer.submit_item(always_conflicting, _post("s", _beat("a", 0, 1))).result(timeout=60)


def test_how_long_does_a_batch_wait_for_more_writes() -> None:
    """Does the writer wait about the time four more writes take at the estimated rate, within its bounds, and not
    at all when fewer than one more is expected within the longest wait?"""
    assert gather_wait(1000.0, 0.004, 0.060) == 0.004  # a busy process: the shortest wait
    assert gather_wait(300.0, 0.004, 0.060) == pytest.approx(4 / 300)  # four more take 13.3 ms
    assert gather_wait(75.0, 0.004, 0.060) == pytest.approx(4 / 75)  # a replica among many: 53 ms
    assert gather_wait(20.0, 0.004, 0.060) == 0.060  # the longest wait
    assert gather_wait(15.0, 0.004, 0.060) == 0.0  # not one more expected within 60 ms: never held
    assert gather_wait(0.0, 0.004, 0.060) == 0.0  # no estimate yet
    assert gather_wait(1000.0, 0.0, 0.0) == 0.0  # gathering off


def test_does_the_arrival_rate_follow_the_writes() -> None:
    """Is the first interval's rate taken as it is, does a steady stream keep its rate, and does a pause of
    seconds all but replace it (so the write after the pause is not held)?"""
    assert arrival_rate(0.0, 3, 0.010) == pytest.approx(300.0)
    assert arrival_rate(0.0, 3, float("inf")) == 0.0  # the first batch of all
    steady = 300.0
    for _ in range(100):
        steady = arrival_rate(steady, 3, 0.010)
    assert steady == pytest.approx(300.0)
    after_pause = arrival_rate(75.0, 1, 5.0)
    assert after_pause < 1.0 and gather_wait(after_pause, 0.004, 0.060) == 0.0
    assert arrival_rate(75.0, 7, 0.010) == pytest.approx(75.0 + (700.0 - 75.0) * (1 - math.exp(-0.01)))
