"""Cache misses of concurrent requests are loaded together (``apps.api.plumbing.coalesced_loads``), each request getting
its own value or its own refusal, and the API's caller lookup uses it."""

from __future__ import annotations

import asyncio
import functools
import threading

import httpx

from diemcau.apps.api.plumbing.access import Denied, load_callers
from diemcau.apps.api.plumbing.coalesced_loads import CoalescedLoader
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, runtime_of, seeded_client
from tests.seed import seed_small_province
from tests.transcript_fixtures import LECTURE_ID, seed_lecture


class RecordingLoads:
    """``load_many`` that records each call's keys; ``refuse`` keys come back as their own ``LookupError``."""

    def __init__(self, refuse: frozenset[str] = frozenset(), fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.refuse, self.fail = refuse, fail

    def __call__(self, keys: list[str]) -> dict[str, str | BaseException]:
        self.calls.append(sorted(keys))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise ConnectionError("database unreachable")
        return {k: LookupError(k) if k in self.refuse else k.upper() for k in keys if k != "missing"}


async def _together(loader: CoalescedLoader, keys: list[str]) -> list:
    return await asyncio.gather(*(loader.load(k) for k in keys), return_exceptions=True)


def test_keys_asked_for_in_one_turn_are_loaded_in_one_call_off_the_event_loop() -> None:
    loads = RecordingLoads()
    loader = CoalescedLoader(loads)
    assert asyncio.run(_together(loader, ["a", "b", "a", "c"])) == ["A", "B", "A", "C"]
    assert loads.calls == [["a", "b", "c"]] and loader.rounds == 1  # "a" twice, loaded once
    assert threading.current_thread().name not in loads.threads  # the thread pool, not the event loop


def test_a_gather_window_joins_keys_asked_for_a_little_apart() -> None:
    """Requests arrive one by one under load; with ``gather_seconds`` do misses a few milliseconds apart share a
    round (without it, each is a round of its own)?"""

    async def apart(loader: CoalescedLoader) -> list:
        first = asyncio.create_task(loader.load("a"))
        await asyncio.sleep(0.01)
        return [await loader.load("b"), await first]

    for gather, rounds in ((1.0, [["a", "b"]]), (0.0, [["a"], ["b"]])):
        loads = RecordingLoads()
        assert asyncio.run(apart(CoalescedLoader(loads, gather_seconds=gather))) == ["B", "A"]
        assert loads.calls == rounds


def test_later_requests_make_a_new_round() -> None:
    loads = RecordingLoads()
    loader = CoalescedLoader(loads)

    async def two_turns() -> list:
        first = await loader.load("a")
        return [first, await loader.load("a")]

    assert asyncio.run(two_turns()) == ["A", "A"] and loads.calls == [["a"], ["a"]]


def test_each_request_gets_its_own_refusal_and_the_others_their_values() -> None:
    loader = CoalescedLoader(RecordingLoads(refuse=frozenset({"b"})))
    a, b, missing = asyncio.run(_together(loader, ["a", "b", "missing"]))
    assert a == "A" and isinstance(b, LookupError) and isinstance(missing, KeyError)


def test_a_failed_load_fails_every_request_of_its_round_and_the_next_round_tries_again() -> None:
    loads = RecordingLoads(fail=True)
    loader = CoalescedLoader(loads)
    outcomes = asyncio.run(_together(loader, ["a", "b"]))
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    loads.fail = False
    assert asyncio.run(_together(loader, ["a"])) == ["A"]


def test_a_cancelled_request_leaves_the_others_their_load() -> None:
    gate = threading.Event()
    loads = RecordingLoads()

    def slow(keys: list[str]) -> dict:
        gate.wait(10)
        return loads(keys)

    loader = CoalescedLoader(slow)

    async def one_leaves() -> str:
        leaving, staying = asyncio.create_task(loader.load("a")), asyncio.create_task(loader.load("a"))
        await asyncio.sleep(0.05)
        leaving.cancel()
        gate.set()
        return await staying

    assert asyncio.run(one_leaves()) == "A"


def test_a_crowd_missing_the_caller_cache_is_read_in_one_query(tmp_path, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Through the API: members posting at the same moment with cold caches are resolved in one round; the
    inactive member among them is refused (403) and not remembered, the others are."""
    settings = load_settings({"DIEMCAU_HOME": str(tmp_path / "var")})
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture(sqlite_factory)
    body = {"events": [{"event_id": "e1", "kind": "heartbeat", "start": 0, "end": 15, "seq": 1}]}
    url = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
    roles = ["member", "secretary", "inactive", "trainer", "member"]

    async def crowd() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answers = await asyncio.gather(*(http.post(url, json=body, headers=auth(role)) for role in roles))
        return [a.status_code for a in answers]

    statuses = asyncio.run(crowd())
    assert statuses[0] == statuses[-1] == 200 and statuses[2] == 403
    assert runtime_of(client).callers.rounds == 1
    cached = runtime_of(client).caches.callers
    assert {seeded["users"][r] for r in ("member", "secretary", "trainer")} == set(cached._entries)


def test_a_member_not_in_the_roster_is_refused_as_not_in_roster(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    seed_small_province(sqlite_factory)
    loader = CoalescedLoader(functools.partial(load_callers, sqlite_factory))  # as create_app builds the app's
    outcome = asyncio.run(_together(loader, ["z9999", "A1001"]))
    assert isinstance(outcome[0], Denied) and outcome[0].code == "not_in_roster"
    assert outcome[1].viewer.username == "a1001"
