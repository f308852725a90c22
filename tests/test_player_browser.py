"""In real Chromium against a real hub: a member plays a published lecture, switches to Chỉ nghe, searches from
the portal and lands in the player at the hit's moment — and transcript markup never runs.

The lecture is a generated 640×360 clip published into the hub's data directory with the real pipeline
(ffmpeg renditions, the hub's own worker), its captions imported from a WebVTT file.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from diemcau.adapters.db.lectures import PublishRequest
from diemcau.adapters.storage import stores_of
from diemcau.adapters.transcript_import import import_captions
from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from diemcau.jobs.publish import publish, wait_for
from diemcau.materials.attach import AttachRequest, attach_material
from diemcau.search.indexer import open_index, sync_lecture
from tests.browser import launch_chromium, watch_csp
from tests.hubserver import HubProcess
from tests.material_fixtures import make_pdf
from tests.media_fixtures import make_video

pytestmark = [pytest.mark.browser, pytest.mark.hub]

MEMBER = "42000002"  # Chi bộ thôn Đông, enrolled in the demo course
COURSE = "nq-trung-uong-demo"
PAYLOAD = '&lt;img src=x onerror="window.__xss=1"&gt; &lt;script&gt;window.__xss=2&lt;/script&gt;'
CAPTIONS = f"""WEBVTT

00:00:00.000 --> 00:00:04.000
Kính thưa các đồng chí

00:00:04.000 --> 00:00:08.000
hôm nay chúng ta học tập nghị quyết

00:00:08.000 --> 00:00:12.000
đảng viên cần đọc kỹ {PAYLOAD}

00:00:14.000 --> 00:00:18.000
về công tác xây dựng đảng trong tình hình mới
"""


@pytest.fixture(scope="module")
def lecture(hub: HubProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ready 40-second lecture of the demo course with imported captions, indexed for search."""
    folder = tmp_path_factory.mktemp("player")
    source = make_video(folder / "bai-giang.mp4", seconds=40.0, size="640x360", tone=523)
    request = PublishRequest(str(source), COURSE, "Bài giảng thử trình phát", "Báo cáo viên", transcribe=False)
    lecture_id = publish(hub.settings, hub.factory, stores_of(hub.settings).media, request).lecture_id
    record = wait_for(hub.settings, hub.factory, stores_of(hub.settings), lecture_id)
    assert record.status == "ready", record.error
    (folder / "captions.vtt").write_text(CAPTIONS, encoding="utf-8")
    import_captions(hub.factory, hub.settings.transcripts_dir, lecture_id, folder / "captions.vtt")
    index = open_index(hub.settings)  # the hub's service indexes its own writes; this one came from the test
    assert sync_lecture(index, hub.settings, hub.factory, stores_of(hub.settings), lecture_id) == "indexed"
    index.close()
    return lecture_id


@dataclass
class Member:
    """A phone-sized Chromium page logged in as a demo member, and what went wrong in its scripts."""

    page: Page
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def member(hub: HubProcess):  # type: ignore[no-untyped-def]
    """A demo member logged in through the hub's login form on a 360 px wide page."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
        session = Member(context.new_page())
        session.page.on("pageerror", lambda error: session.errors.append(str(error)))
        watch_csp(session.page, session.errors)  # a script the CSP blocks is an error too
        session.page.on("dialog", lambda dialog: (session.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        session.page.goto(f"{hub.url}hub/login")
        session.page.fill("#username_input", MEMBER)
        session.page.fill("#password_input", DEMO_PASSWORD)
        session.page.click("#login_submit")
        session.page.wait_for_url(f"{hub.url}services/diemcau/**")
        yield session
        browser.close()


def player_url(hub: HubProcess, lecture_id: str, query: str = "") -> str:
    return f"{hub.url}services/diemcau/lectures/{lecture_id}{query}"


def video_state(page: Page) -> dict:
    return page.evaluate(
        """() => { const v = document.getElementById('player');
                   return {time: v.currentTime, paused: v.paused, height: v.videoHeight, src: v.currentSrc}; }"""
    )


def play(page: Page) -> None:
    """Press play once the script has attached a source (muted: headless Chromium has no speakers)."""
    page.wait_for_function("() => document.getElementById('player').currentSrc !== ''")
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }")


def wait_past(page: Page, seconds: float) -> None:
    """Wait until playback has passed ``seconds`` while playing."""
    page.wait_for_function(
        f"() => {{ const v = document.getElementById('player'); return !v.paused && v.currentTime > {seconds}; }}",
        timeout=30_000,
    )


def fits_phone(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


# Which engine plays video and which plays Chỉ nghe, by what the browser offers.
ENGINES = {
    "both": ("hls.js", "native"),  # Chromium as it is (and Safari): hls.js for video, its own HLS for audio
    "no native HLS": ("hls.js", "hls.js"),  # like Firefox
    "no MSE": ("native", "native"),  # like an older iPhone
}
HIDE = {
    "both": "",
    "no native HLS": "const can = HTMLMediaElement.prototype.canPlayType; HTMLMediaElement.prototype.canPlayType ="
    " function (type) { return /mpegurl/i.test(type) ? '' : can.call(this, type); };",
    "no MSE": "delete window.MediaSource; delete window.ManagedMediaSource;",
}


# Opus reported unplayable by both engines' questions, as on an iPhone before iOS 17.
NO_OPUS = (
    "const supported = MediaSource.isTypeSupported.bind(MediaSource);"
    " MediaSource.isTypeSupported = (type) => /opus/i.test(type) ? false : supported(type);"
    " const plays = HTMLMediaElement.prototype.canPlayType; HTMLMediaElement.prototype.canPlayType ="
    " function (type) { return /opus/i.test(type) ? '' : plays.call(this, type); };"
)


def audio_segments(page: Page) -> set[str]:
    """Which Chỉ nghe renditions (``audio``: AAC, ``opus``) the page fetched media segments of."""
    names = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    return {match.group(1) for name in names if (match := re.search(r"/(audio|opus)/(?:seg_|init\.mp4)", name))}


def engine_of(state: dict, playlist: str) -> str:
    if state["src"].startswith("blob:"):
        return "hls.js"
    assert state["src"].endswith(playlist), state
    return "native"


@pytest.mark.parametrize("browser", sorted(ENGINES))
def test_member_plays_then_switches_to_audio_only(hub: HubProcess, lecture: str, member: Member, browser: str) -> None:
    """Does the lecture play (time advances, the transcript follows), keep playing at the same moment after
    switching to Chỉ nghe (in Opus, through hls.js or the browser's own HLS), report progress, and fit a 360 px
    screen — whichever engines the browser has?"""
    page = member.page
    page.add_init_script(HIDE[browser])
    page.goto(player_url(hub, lecture))
    assert t("player.audio_only") in page.locator("#rendition").inner_text() and fits_phone(page)
    page.select_option("#rendition", "v240")
    play(page)
    wait_past(page, 2.0)
    before = video_state(page)
    assert before["height"] == 240, before
    video_engine, audio_engine = ENGINES[browser]
    assert engine_of(before, "/v240/index.m3u8") == video_engine
    assert page.evaluate("() => typeof window.Hls") == ("function" if video_engine == "hls.js" else "undefined")
    assert page.locator("#transcript a.now").count() == 1

    page.select_option("#rendition", "audio")
    wait_past(page, before["time"] + 2.0)
    after = video_state(page)
    # Chromium plays Opus in fMP4 with either engine (MediaSource.isTypeSupported, canPlayType), so Chỉ nghe is
    # the Opus rendition
    assert after["height"] == 0 and engine_of(after, "/opus/index.m3u8") == audio_engine, after
    assert audio_segments(page) == {"opus"}
    assert fits_phone(page)

    page.evaluate("() => document.getElementById('player').pause()")
    page.wait_for_function("() => document.getElementById('coverage').textContent !== ''", timeout=15_000)
    token = hub.token_for(MEMBER)
    progress = httpx.get(
        f"{hub.url}services/diemcau/api/lectures/{lecture}/progress",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    ).json()
    assert progress["coverage_percent"] > 5 and progress["resume_position"] > 4, progress
    assert member.errors == []


@pytest.mark.parametrize("browser", ["both", "no native HLS"])
def test_audio_only_falls_back_to_aac_where_opus_is_unsupported(
    hub: HubProcess, lecture: str, member: Member, browser: str
) -> None:
    """Where the browser says it cannot play Opus (MediaSource.isTypeSupported for hls.js, canPlayType for its
    own HLS), does Chỉ nghe play the AAC rendition instead, and never fetch an Opus segment?"""
    page = member.page
    page.add_init_script(NO_OPUS + HIDE[browser] + "localStorage.setItem('diemcau.rendition', '\"audio\"');")
    page.goto(player_url(hub, lecture))
    play(page)
    wait_past(page, 1.0)
    state = video_state(page)
    assert engine_of(state, "/audio/index.m3u8") == ENGINES[browser][1], state
    assert audio_segments(page) == {"audio"} and member.errors == []


def test_play_pressed_before_the_stream_is_ready_still_plays(hub: HubProcess, lecture: str, member: Member) -> None:
    """When ▶ is pressed the moment the page shows, before hls.js has arrived, does playback still start?"""
    page = member.page
    page.add_init_script(
        "localStorage.setItem('diemcau.rendition', '\"v240\"');"
        "document.addEventListener('DOMContentLoaded', () => {"
        "  const v = document.getElementById('player'); v.muted = true; window.__early = !v.currentSrc;"
        "  v.play().catch(() => {}); });"
    )
    page.goto(player_url(hub, lecture))
    wait_past(page, 0.5)
    assert page.evaluate("() => window.__early") is True  # really pressed before any source was attached
    assert video_state(page)["height"] == 240


def test_player_resumes_where_the_member_stopped(hub: HubProcess, lecture: str, member: Member) -> None:
    """Does a reopened lecture start where the progress API says the member stopped, and say so?"""
    page = member.page
    token = hub.token_for(MEMBER)
    event = {"event_id": "resume-test", "kind": "seek", "start": 0, "end": 21.0, "seq": 2_000_000_000}
    response = httpx.post(
        f"{hub.url}services/diemcau/api/lectures/{lecture}/progress",
        json={"events": [event]},
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["resume_position"] == 21.0
    page.goto(player_url(hub, lecture))
    page.wait_for_function("() => document.getElementById('player-status').textContent !== ''")
    assert t("player.resume", time="00:21") in page.locator("#player-status").inner_text()
    play(page)
    wait_past(page, 21.0)
    assert video_state(page)["time"] < 30


def test_search_from_the_portal_opens_the_player_at_the_hit(hub: HubProcess, lecture: str, member: Member) -> None:
    """Does searching 'xay dung' (no diacritics) from the portal and clicking the hit play from 00:14?"""
    page = member.page
    page.goto(f"{hub.url}services/diemcau/")
    page.fill("form.search input[name=q]", "xay dung")
    page.press("form.search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r".*/services/diemcau/search\?q=xay\+dung$"))
    hit = page.locator(f'#hits a[href$="/lectures/{lecture}?t=14"]')
    assert "00:14" in hit.inner_text() and fits_phone(page)
    assert page.locator("#hits mark").first.inner_text() == "xây"
    hit.click()
    page.wait_for_url(re.compile(rf".*/lectures/{lecture}\?t=14$"))
    assert t("player.start_at", time="00:14") in page.locator("#player-status").inner_text()
    if video_state(page)["paused"]:  # the click may not carry over as a gesture that allows sound
        play(page)
    wait_past(page, 14.0)
    assert video_state(page)["time"] < 22
    assert member.errors == []


def test_transcript_markup_never_runs(hub: HubProcess, lecture: str, member: Member) -> None:
    """Does an <img onerror> / <script> in a transcript stay text in the search results, the transcript pane
    and the captions — nothing runs, no element is made?"""
    page = member.page
    page.goto(f"{hub.url}services/diemcau/search?q=can+doc+ky")
    assert '<img src=x onerror="window.__xss=1">' in page.locator("#hits").inner_text()
    assert page.locator("#hits img, #hits script").count() == 0

    page.goto(player_url(hub, lecture, "?t=8"))
    line = page.locator('#transcript a[data-start="8.0"]')
    assert "<script>window.__xss=2</script>" in line.inner_text()
    assert page.locator("#transcript img, #transcript script").count() == 0
    play(page)
    # The cue of the segment at 8 s (the one carrying the markup): the first cue can still be the active one
    # for a moment while the player seeks from 0 to ?t=8.
    at_8 = (
        "Array.from(document.getElementById('player').textTracks[0]?.activeCues || [])"
        ".find(c => Math.abs(c.startTime - 8) < 0.01)"
    )
    page.wait_for_function(f"() => Boolean({at_8})", timeout=30_000)
    cue = page.evaluate(f"() => {at_8}.text")
    assert "<img src=x" in cue or "&lt;img" in cue
    assert page.evaluate("() => window.__xss") is None
    assert member.errors == []


def test_progress_waits_offline_and_is_sent_when_back(hub: HubProcess, lecture: str, member: Member) -> None:
    """When the connection drops, are the player's progress events kept on the phone and sent once it is back?"""
    page = member.page
    token = {"Authorization": f"token {hub.token_for(MEMBER)}"}
    progress_url = f"{hub.url}services/diemcau/api/lectures/{lecture}/progress"
    before = httpx.get(progress_url, headers=token, timeout=30).json()["coverage_percent"]
    page.goto(player_url(hub, lecture, "?t=30"))
    play(page)
    wait_past(page, 34.0)
    page.context.set_offline(True)
    page.evaluate("() => document.getElementById('player').pause()")
    page.wait_for_function("() => JSON.parse(localStorage.getItem('diemcau.progress.queue') || '[]').length > 0")
    page.wait_for_function(f"() => document.getElementById('player-status').textContent === {t('player.offline')!r}")
    assert httpx.get(progress_url, headers=token, timeout=30).json()["coverage_percent"] == before

    page.context.set_offline(False)  # the browser's 'online' event sends the queue
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('diemcau.progress.queue') || '[]').length === 0", timeout=45_000
    )
    after = httpx.get(progress_url, headers=token, timeout=30).json()["coverage_percent"]
    assert after >= before + 5, (before, after)  # 30 → 34 s of a 40 s lecture is 10 %
    assert member.errors == []


PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chromium's built-in PDF viewer


def test_a_material_opens_in_the_pdf_viewer_under_its_sandbox(
    hub: HubProcess, lecture: str, member: Member, tmp_path
) -> None:
    """Does *Mở trang N*'s inline PDF, served under ``Content-Security-Policy: sandbox``, still open in the
    browser's PDF viewer (the sandbox costs members nothing on Chromium)?"""
    source = make_pdf(tmp_path / "Nghị quyết 57.pdf")
    with source.open("rb") as stream:
        attach_material(
            hub.settings,
            hub.factory,
            stores_of(hub.settings).materials,
            AttachRequest(lecture, source.name, "test"),
            stream,
        )
    page = member.page
    url = f"{hub.url}services/diemcau/api/lectures/{lecture}/materials/{quote(source.name)}?inline=true#page=2"
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert response.all_headers().get("content-security-policy") == "sandbox", response.all_headers()
    deadline = time.monotonic() + 30
    while not any(frame.url.startswith(PDF_VIEWER) for frame in page.frames):
        assert time.monotonic() < deadline, [frame.url for frame in page.frames]
        page.wait_for_timeout(200)
    assert member.errors == []


def test_a_lecture_heard_to_the_end_starts_again_from_the_beginning(
    hub: HubProcess, lecture: str, member: Member
) -> None:
    """A member who listened to the end and opens the lecture again: is it not offered "Phát tiếp từ <the end>"
    but said to be heard to the end, and played from 0:00 — both after the player's own `ended` and when the
    last word the server has is a heartbeat at the end (a phone that stalled on the last fragment)?"""
    page = member.page
    # this device's events come after any a test posted with a large sequence number for the same member
    page.add_init_script("localStorage.setItem('diemcau.progress.seq', '2000000050');")
    page.goto(player_url(hub, lecture, "?t=35"))
    play(page)
    page.wait_for_function("() => document.getElementById('player').ended", timeout=30_000)
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('diemcau.progress.queue') || '[]')).length === 0", timeout=15_000
    )
    token = hub.token_for(MEMBER)
    api = f"{hub.url}services/diemcau/api/lectures/{lecture}/progress"
    for attempt in ("ended", "heartbeat at the end"):
        if attempt != "ended":
            event = {"event_id": "stalled-end", "kind": "heartbeat", "start": 38.0, "end": 39.9, "seq": 2_000_100_000}
            headers = {"Authorization": f"token {token}"}
            response = httpx.post(api, json={"events": [event]}, headers=headers, timeout=30)
            assert response.status_code == 200 and response.json()["resume_position"] == 39.9
        page.goto(player_url(hub, lecture))
        page.wait_for_function("() => document.getElementById('player').currentSrc !== ''")
        status = page.locator("#player-status").inner_text()
        assert "Phát tiếp" not in status and t("player.heard_to_the_end") in status, (attempt, status)
        assert video_state(page)["time"] < 1, attempt
        assert member.errors == []
