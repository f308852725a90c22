"""In real Chromium at 360×740 against a real hub: a stored lecture's material opens with no connection, with the
server's own security headers; a question asked with no connection is kept on the device as "chờ gửi", survives
a reload, and reaches the server exactly once when the connection returns, even when the answer to the first post
is lost and the queue sends it again (docs/player.md, "Offline"; docs/questions.md, "Asked offline"). Reuses the
offline harness of tests/test_offline_browser.py (its lecture, and its way of cutting the link)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route
from sqlalchemy import select

from diemcau.adapters.db import accounts
from diemcau.adapters.db.models_progress import ProgressEventRow
from diemcau.adapters.db.models_questions import LectureQuestionRow
from diemcau.adapters.passwords import SecretVerifier
from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from tests.browser import log_in
from tests.hubserver import HubProcess
from tests.material_fixtures import pdf_bytes, seed_lecture_material
from tests.test_offline_browser import (  # noqa: F401 (lecture: a fixture)
    MEMBER,
    go_offline,
    lecture,
    offline_phone,
    questions_on_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.hub]

QUEUE = "JSON.parse(localStorage.getItem('diemcau.questions.queue') || '[]')"
MINE = f"{QUEUE}.filter(q => q.member === {MEMBER!r})"
FOREIGN = {
    "moment": 1,
    "text": "Câu hỏi của người dùng chung máy",
    "client_id": "another-member-0001",
    "member": "42000099",
}
ASKED = "Xin hỏi: khi không có sóng thì học thế nào?"
SECOND = "42000003"  # a member of the same cell, enrolled in the same course: the phone's second user
PROGRESS = "JSON.parse(localStorage.getItem('diemcau.progress.queue') || '[]')"
MATERIAL = "Tai-lieu-hoc-tap.pdf"
SCAN = "Ban-chup-nghi-quyet.pdf"  # a scanned PDF over player.offline_material_max_bytes (1.5 MB): left out
OPEN_MATERIAL = """async (url) => {
  const response = await fetch(url);
  const headers = ['content-security-policy', 'content-disposition', 'x-content-type-options'];
  return [response.status, (await response.arrayBuffer()).byteLength, ...headers.map(h => response.headers.get(h))];
}"""


def test_offline_a_material_opens_and_a_question_is_sent_once_back_online(
    hub: HubProcess,
    lecture: str,  # noqa: F811 (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stored lecture, no connection: does its material open from the device, sandboxed as online, and count in
    the stored size, while a scan over the offline limit is left out with a Vietnamese note; is a question kept as "chờ gửi" with its moment (through a reload), and once online, with
    the answer to the first post lost on the way back, is it on the server exactly once?"""
    base = f"{hub.url}services/diemcau"
    with offline_phone(monkeypatch) as (context, page, errors):
        seed_lecture_material(hub.settings, hub.factory, lecture, MATERIAL)
        size = len(pdf_bytes())
        scan_size = hub.settings.player.offline_material_max_bytes + 1
        seed_lecture_material(hub.settings, hub.factory, lecture, SCAN, pdf_bytes().ljust(scan_size, b"\n"))
        log_in(page, hub.url, MEMBER)
        page.goto(f"{base}/lectures/{lecture}")
        url = page.eval_on_selector(f"#materials li > a:text-is('{MATERIAL}')", "a => a.href")
        scan = page.eval_on_selector(f"#materials li > a:text-is('{SCAN}')", "a => a.href")
        online = page.evaluate(OPEN_MATERIAL, url)
        assert online[:2] == [200, size] and online[2] == "sandbox" and online[3].startswith("attachment")
        assert online[4] == "nosniff"
        page.click("#offline-save")
        page.wait_for_function("() => document.getElementById('offline-remove').hidden === false", timeout=60_000)
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        stored = page.evaluate("(url) => caches.match(url).then(r => r.arrayBuffer()).then(b => b.byteLength)", url)
        assert stored == size  # in the lecture's cache, so in the size the player shows (the note's bytes)
        assert size < page.evaluate("() => window.diemcauOffline.stored()")[0]["bytes"] < scan_size
        assert page.evaluate("(url) => caches.match(url).then(r => r === undefined)", scan)  # the scan: not stored
        skipped = page.text_content(f"#materials li:has(a:text-is('{SCAN}')) .offline-skipped")
        assert skipped == t("offline.material_skipped", size="1,4 MB")
        assert page.query_selector(f"#materials li:has(a:text-is('{MATERIAL}')) .offline-skipped") is None

        go_offline(context, True)
        page.goto(f"{base}/lectures/{lecture}")  # the player from the device
        page.wait_for_selector("#transcript")
        page.wait_for_function(  # the Q&A list cannot load: says why, in Vietnamese, and that asking still works
            f"() => document.getElementById('q-status').textContent === {t('questions.load_offline')!r}"
        )
        assert page.evaluate(OPEN_MATERIAL, url) == online  # from the device, with the server's own headers
        with page.expect_download() as download:  # the member's tap on the material, with no connection
            page.click(f"#materials li > a:text-is('{MATERIAL}')")
        assert download.value.failure() is None and len(download.value.path().read_bytes()) == size
        page.evaluate("() => { document.getElementById('player').currentTime = 6; }")
        page.click("#q-ask")
        page.fill("#q-text", ASKED)
        page.click("#q-send")
        page.wait_for_function(
            f"() => document.getElementById('q-status').textContent === {t('questions.queued_saved')!r}"
        )
        queued = page.evaluate(f"() => {QUEUE}")
        assert [(q["text"], q["moment"], q["member"]) for q in queued] == [(ASKED, 6, MEMBER)] and queued[0]["asked_at"]
        assert questions_on_server(hub, lecture, ASKED) == []  # (kept through a reload: tests/test_offline_browser.py)

        # Another member's question kept on this shared phone: never sent with this member's login.
        foreign = {**FOREIGN, "url": queued[0]["url"], "asked_at": queued[0]["asked_at"]}
        page.evaluate(
            "(f) => localStorage.setItem('diemcau.questions.queue', JSON.stringify([f].concat(" + QUEUE + ")))",
            foreign,
        )
        lost: list[int] = []

        def answer_lost(route: Route) -> None:  # the post reaches the server; its answer never comes back
            if route.request.method == "POST" and not lost:
                lost.append(route.fetch().status)
                route.abort("internetdisconnected")
            else:
                route.fallback()

        context.route("**/questions", answer_lost)
        go_offline(context, False)  # 'online': the queue sends; the first answer is lost, so it stays queued
        for _ in range(40):  # the next tries (the 30 s timer's work), until the queue is empty
            page.evaluate("() => window.dispatchEvent(new Event('online'))")
            if page.evaluate(f"() => {MINE}.length") == 0:
                break
            page.wait_for_timeout(500)
        assert page.evaluate(f"() => {QUEUE}") == [foreign]  # this member's sent; the other's kept, unsent
        assert lost == [201]  # the first post was stored, only its answer was lost
        page.wait_for_function(
            f"() => document.getElementById('q-status').textContent === {t('questions.queued_sent', count=1)!r}"
        )
        assert [text for text, _ in questions_on_server(hub, lecture, ASKED)] == [ASKED]  # once, not twice
        assert questions_on_server(hub, lecture, ASKED)[0][1] == queued[0]["client_id"]
        with hub.factory() as session:  # nobody's: the other member's question was not posted as this one
            assert (
                session.scalars(select(LectureQuestionRow).where(LectureQuestionRow.text == FOREIGN["text"])).all()
                == []
            )
        page.wait_for_selector("#q-list li[id^='q-']")
        assert page.query_selector("#q-list .q-queued") is None

        # The phone changes hands: the first member's session ends, a second member logs in on the same browser.
        # Their first page online removes what the first stored; the first's queued progress waits, unsent.
        left = {
            "lecture": lecture,
            "url": f"/services/diemcau/api/lectures/{lecture}/progress",
            "member": MEMBER,
            "event": {
                "event_id": "0e5c3a52-5d2b-4c1e-9a47-7d0f7a8e0001",
                "kind": "heartbeat",
                "start": 0,
                "end": 5,
                "seq": 1,
            },
        }
        page.evaluate("(e) => localStorage.setItem('diemcau.progress.queue', JSON.stringify([e]))", left)
        assert [n["member"] for n in page.evaluate("() => window.diemcauOffline.stored()")] == [MEMBER]
        verifier = SecretVerifier.from_settings(hub.settings.auth)
        accounts.set_password(hub.factory, SECOND, DEMO_PASSWORD, verifier=verifier)
        context.clear_cookies()
        log_in(page, hub.url, SECOND)  # lands on the portal, online
        page.wait_for_function("async () => (await caches.keys()).length === 0")  # the first member's lecture: gone
        page.wait_for_function("async () => !(await navigator.serviceWorker.getRegistration())")  # and the worker
        assert page.is_hidden("#offline-list")
        page.goto(f"{base}/lectures/{lecture}")  # the same lecture, as the second member: not stored for them
        page.wait_for_selector("#offline-save:not([hidden])")
        assert page.text_content("#offline-status") == ""
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # the player's queue would be sent now
        page.wait_for_timeout(1000)
        assert page.evaluate(f"() => {PROGRESS}") == [left]  # the first member's progress: kept for their login
        with hub.factory() as session:  # under nobody's login
            assert (
                session.scalars(
                    select(ProgressEventRow).where(ProgressEventRow.event_id == left["event"]["event_id"])
                ).all()
                == []
            )
        assert errors == []
