"""The studio inside the real hub: a trainer's own server proxies ``/user/<trainer>/studio/`` to Streamlit; a
member can neither start a server nor pass through another's; and in Chromium a trainer corrects a segment in
the studio and finds the corrected words with the portal's search.

The server, jupyter-server-proxy, Streamlit and the API service are the real ones; the studio reaches the API
with the server's own hub token (``JUPYTERHUB_API_TOKEN``), as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.lectures import utcnow
from diemcau.adapters.db.models_media import LectureMediaRow
from diemcau.adapters.transcript_store import write_transcript
from diemcau.apps.studio.views.correct import clock
from diemcau.core.transcript import Segment, Transcript, Word
from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from tests.browser import launch_chromium, log_in
from tests.hubserver import HubProcess, login, running_server
from tests.media_fixtures import make_speech
from tests.transcript_fixtures import seed_lecture

pytestmark = pytest.mark.hub
TRAINER = "42000022"  # báo cáo viên tỉnh
MEMBER = "42000002"  # Chi bộ thôn Đông
COURSE = "nq-trung-uong-demo"
LECTURE = "lecStudioHub"
TITLE = "Chuyển đổi số trong công tác tuyên giáo"  # other tests of the session add lectures to the same course
LINES = [  # words Whisper would have written, one segment each; "Hương Khê" is what the trainer adds
    (0.0, 2.0, "Thưa các đồng chí báo cáo viên"),
    (2.0, 4.0, "chuyên đề hôm nay về chuyển đổi số"),
    (4.0, 6.0, "trong công tác tuyên giáo ở cơ sở"),
]
CORRECTED = "trong công tác tuyên giáo ở xã miền núi Hương Khê"


def _words(text: str, start: float, end: float, unsure: int | None) -> tuple[Word, ...]:
    parts, step = text.split(), (end - start) / len(text.split())
    return tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " " + p, 0.2 if i == unsure else 0.95)
        for i, p in enumerate(parts)
    )


def seed_studio_lecture(hub: HubProcess) -> str:
    """A ready lecture of the demo course with real audio and a transcript whose third segment is unsure."""
    seed_lecture(hub.factory, LECTURE, course_id=COURSE, title=TITLE)
    sha = "cd" * 32
    media = hub.settings.media_dir / sha
    media.mkdir(parents=True, exist_ok=True)
    make_speech(media / "audio.m4a", " ".join(text for _s, _e, text in LINES))
    manifest = (
        '{"sha256": "%s", "duration_seconds": 6.0, "has_video": false, "master": "master.m3u8", '
        '"audio_playlist": "audio/index.m3u8", "audio_file": "audio.m4a", "poster": "poster.jpg", '
        '"renditions": []}'
    ) % sha
    (media / "manifest.json").write_text(manifest)
    with transaction(hub.factory) as session:
        if session.get(LectureMediaRow, LECTURE) is None:
            session.add(LectureMediaRow(lecture_id=LECTURE, sha256=sha, source="test", created_at=utcnow()))
    segments = tuple(
        Segment(i, s, e, text, _words(text, s, e, 3 if i == 2 else None)) for i, (s, e, text) in enumerate(LINES)
    )
    write_transcript(hub.settings.transcripts_dir, Transcript(LECTURE, "vi", segments, source="whisper", model="base"))
    return LECTURE


def start_server(hub: HubProcess, user: str) -> httpx.Response:
    """Ask the hub to start ``user``'s server with their own token."""
    headers = {"Authorization": f"token {hub.token_for(user)}"}
    return httpx.post(f"{hub.url}hub/api/users/{user}/server", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def trainer_server(hub: HubProcess) -> Iterator[str]:
    """The trainer's running server (after a login put them in the staff groups) and a lecture to correct."""
    seed_studio_lecture(hub)
    with running_server(hub, TRAINER, DEMO_PASSWORD) as token:
        yield token


def test_the_trainers_studio_answers_through_their_server(hub: HubProcess, trainer_server: str) -> None:
    """Does /user/<trainer>/studio/ start Streamlit behind the trainer's server and answer with its page, its
    health probe and its assets under the proxied prefix?"""
    headers = {"Authorization": f"token {trainer_server}"}
    base = f"{hub.url}user/{TRAINER}/studio/"
    page = httpx.get(base, headers=headers, timeout=120)
    assert page.status_code == 200, page.text[-2000:]
    assert "<title>Streamlit</title>" in page.text
    health = httpx.get(f"{base}_stcore/health", headers=headers, timeout=30)
    assert health.status_code == 200 and health.text == "ok"
    no_slash = httpx.get(base.rstrip("/"), headers=headers, timeout=30)
    assert no_slash.status_code in (301, 302) and no_slash.headers["location"].endswith("/studio/")


def test_a_member_cannot_reach_a_studio(hub: HubProcess, trainer_server: str) -> None:
    """Is a member refused a server of their own, and refused the trainer's studio with their token or their
    browser session?"""
    with httpx.Client() as browser:
        assert login(browser, hub.url, MEMBER, DEMO_PASSWORD).status_code == 200
        assert start_server(hub, MEMBER).status_code == 403
        proxied = browser.get(f"{hub.url}user/{TRAINER}/studio/", follow_redirects=True, timeout=60)
        assert proxied.status_code == 403 and "<title>Streamlit</title>" not in proxied.text
    headers = {"Authorization": f"token {hub.token_for(MEMBER)}"}
    direct = httpx.get(f"{hub.url}user/{TRAINER}/studio/", headers=headers, timeout=60)
    assert direct.status_code == 403 and "<title>Streamlit</title>" not in direct.text
    health = httpx.get(f"{hub.url}user/{TRAINER}/studio/_stcore/health", headers=headers, timeout=60)
    assert health.status_code == 403


def upload_through_the_proxy(page) -> None:  # type: ignore[no-untyped-def]
    """Publish a file that is not media from the studio: the upload crosses the proxy (Streamlit's XSRF check
    included) and the API's reason comes back to the page; nothing is published."""
    page.get_by_text(t("studio.page_publish"), exact=True).click()
    page.get_by_label(t("studio.field_title")).fill("Không phải bài giảng")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "ghi-chu.mp4", "mimeType": "video/mp4", "buffer": "không phải video\n".encode() * 50}]
    )
    wait_for_the_upload(page, "ghi-chu.mp4")
    page.get_by_role("button", name=t("studio.publish_button")).click()
    expect(page.get_by_text(t("media.not_media"))).to_be_visible(timeout=60_000)


def wait_for_the_upload(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has sent the file: its chip names ``name``, without the spinner (status ``uploaded``;
    the chip is in the page, though not shown: an ancestor of it has ``display: none``).
    The form submits the uploader's value as it is when the button is clicked; clicked while the file is still
    crossing the proxy (slow under load), the form arrives without it and the page asks for a file or a URL."""
    chip = page.get_by_test_id("stFileChip").filter(has=page.get_by_test_id("stFileChipName").get_by_text(name))
    expect(chip).to_be_attached(timeout=60_000)
    expect(chip.get_by_test_id("stFileChipIconSpinner")).to_have_count(0, timeout=60_000)
    expect(chip.get_by_test_id("stFileChipIconError")).to_have_count(0)


def heading(number: int) -> str:
    """The correction page's heading of segment ``number`` (counted from 1) of the seeded lecture."""
    start, end, _text = LINES[number - 1]
    return t("studio.segment_heading", number=number, start=clock(start), end=clock(end))


def choose_lecture(page) -> None:  # type: ignore[no-untyped-def]
    """Pick the seeded lecture in the correction page's lecture box (the session's other tests add lectures
    to the same course, and the box starts on the first by id) and wait for its first segment."""
    expect(page.get_by_role("heading", name=t("studio.page_correct"))).to_be_visible(timeout=60_000)
    label = page.get_by_test_id("stWidgetLabel").get_by_text(t("studio.field_lecture"), exact=True)
    page.get_by_test_id("stSelectbox").filter(has=label).click()
    page.get_by_role("option", name=re.compile(re.escape(TITLE))).click()
    wait_for_the_only_segment(page, LINES[0][2])


def wait_for_the_only_segment(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page shows one segment form and its text is ``text``: while Streamlit re-runs, the
    previous lecture's or segment's form stays on the page until the new one replaces it."""
    page.wait_for_function(
        """([label, text]) => {
             const fields = document.querySelectorAll(`textarea[aria-label="${label}"]`);
             return fields.length === 1 && fields[0].value === text;
           }""",
        arg=[t("studio.field_text"), text],
        timeout=60_000,
    )


@pytest.mark.browser
def test_a_trainer_corrects_a_segment_and_search_finds_it(hub: HubProcess, trainer_server: str) -> None:
    """In Chromium, logged in as the trainer: does the studio (calling the API with the server's own token)
    show the trainer's name, jump to the unsure segment, save a correction, and does the portal's search then
    find the corrected words at that segment? Does an upload cross the proxy?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN").new_page()
        log_in(page, hub.url, TRAINER)
        page.goto(f"{hub.url}user/{TRAINER}/studio/")
        signed_in = re.compile(re.escape(t("studio.signed_in", name="@", card=TRAINER)).replace("@", ".+"))
        expect(page.get_by_text(signed_in)).to_be_visible(timeout=90_000)  # the API resolved the server's token
        page.get_by_text(t("studio.page_correct"), exact=True).click()
        choose_lecture(page)
        page.get_by_role("button", name=t("studio.next_unsure")).click()
        wait_for_the_only_segment(page, LINES[2][2])
        expect(page.get_by_text(heading(3))).to_be_visible()
        page.get_by_label(t("studio.field_text"), exact=True).fill(CORRECTED)
        page.get_by_role("button", name=t("studio.save_button")).click()
        expect(page.get_by_text(t("studio.saved", version=1))).to_be_visible(timeout=30_000)
        upload_through_the_proxy(page)
        page.goto(f"{hub.url}services/diemcau/search?q={quote('Hương Khê')}")
        hit = page.locator("mark", has_text="Hương")
        expect(hit.first).to_be_visible(timeout=30_000)
        assert LECTURE in page.content()
        browser.close()
    transcript = httpx.get(
        f"{hub.url}services/diemcau/api/lectures/{LECTURE}/transcript",
        headers={"Authorization": f"token {trainer_server}"},
        timeout=30,
    ).json()
    assert transcript["segments"][2]["text"] == CORRECTED
