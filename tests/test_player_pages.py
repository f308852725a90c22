"""The player page, the portal's lecture list and search box, the search results page and the player's scripts.

Server side only (an in-process client on the seeded province); the same pages in real Chromium are in
``tests/test_player_browser.py``.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest

from diemcau.apps.api.pages.assets import NPM_HLS_JS, SOURCE_TREE
from diemcau.apps.api.pages.environment import clock
from diemcau.apps.api.pages.player import parse_start, source_choices
from diemcau.apps.api.pages.search_pages import trusted_snippet
from diemcau.apps.api.schemas.lectures import MediaOut, RenditionOut
from diemcau.core.transcript import Segment
from diemcau.i18n import t
from diemcau.search.index import LectureMeta
from diemcau.search.indexer import open_index
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.media_fixtures import seed_lecture_media
from tests.test_search_query import HOSTILE
from tests.transcript_fixtures import LECTURE_ID, opened_yesterday, seed_lecture, seed_lecture_transcript

PAGE = f"{PREFIX}/lectures/{LECTURE_ID}"


@pytest.fixture
def client(settings, sqlite_factory):  # type: ignore[no-untyped-def]
    """The API on the seeded province with a ready lecture of cell A1's course, its media and transcript."""
    test_client, _ = seeded_client(settings, sqlite_factory)
    seed_lecture_transcript(settings.transcripts_dir, sqlite_factory)
    seed_lecture_media(settings, sqlite_factory)
    return test_client


def page(client, url: str, role: str = "member", status: int = 200):  # type: ignore[no-untyped-def]
    response = client.get(url, headers=auth(role, Accept="text/html"))
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def script_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="player-config">(.*?)</script>', html, re.S)
    assert found, "no player config in the page"
    return json.loads(found.group(1))


def test_player_page_has_the_player_in_vietnamese(client) -> None:  # type: ignore[no-untyped-def]
    """Does a member get the lecture's player: Vietnamese labels, Chỉ nghe, speeds, Tải về, captions and the
    transcript?"""
    html = page(client, PAGE)
    assert '<html lang="vi">' in html and 'name="viewport"' in html
    assert "Bài giảng 1" in html and 'id="player"' in html and 'preload="none"' in html
    for label in ("player.quality", "player.audio_only", "player.speed", "player.download", "player.transcript"):
        assert t(label) in html
    assert all(f"{speed}×" in html for speed in ("0,75", "1", "1,25", "1,5", "1,75", "2"))
    assert f'href="{PREFIX}/api/media/{LECTURE_ID}/audio.m4a" download' in html
    captions = f"{PREFIX}/api/lectures/{LECTURE_ID}/captions.vtt"
    assert f'<track kind="captions" srclang="vi" label="{t("player.captions")}" src="{captions}" default>' in html
    line = '<a href="?t=3" data-start="3.0" data-end="6.0"><time>00:03</time><span>hôm nay chúng ta học tập nghị quyết'
    assert line + "</span></a>" in html
    assert "diemcau.progress.queue" in html  # the player's script, inlined: no extra request on a weak link


def test_player_script_gets_sources_progress_url_and_texts(client) -> None:  # type: ignore[no-untyped-def]
    """Does the page hand the script the audio playlist for Chỉ nghe, the progress route and its messages?"""
    config = script_config(page(client, PAGE))
    assert config["choices"] == [
        {"key": "audio", "label": "Chỉ nghe", "url": f"{PREFIX}/api/media/{LECTURE_ID}/audio/index.m3u8", "opus": ""}
    ]  # a lecture published before the Opus rendition: AAC only
    assert config["progressUrl"] == f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
    assert config["hlsScript"].startswith(f"{PREFIX}/static/hls.light.min.js")
    assert config["start"] is None and config["duration"] == 600.0 and config["heartbeatSeconds"] == 15
    assert config["resume"] == 0.0
    assert config["text"]["resume"] == t("player.resume", time="{time}")


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        ("12", 12.0),
        ("12.5", 12.5),
        ("0", 0.0),
        ("99999", 600.0),
        ("abc", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        ("1e400", None),
    ],
)
def test_deep_link_start_time(client, raw: str, start: float | None) -> None:  # type: ignore[no-untyped-def]
    """Does ?t= start the player there, kept within the lecture, and is a junk value ignored, not refused?"""
    html = page(client, f"{PAGE}?t={raw}")
    assert script_config(html)["start"] == start


def test_lecture_outside_the_members_courses_is_a_404_page(client) -> None:  # type: ignore[no-untyped-def]
    """Is a lecture of another cell's course, or no lecture at all, the same Vietnamese 404 page?"""
    for role, url in (("other_cell", PAGE), ("member", f"{PREFIX}/lectures/khong-co")):
        html = page(client, url, role=role, status=404)
        assert t("media.lecture_not_found") in html and "Bài giảng 1" not in html and 'id="player"' not in html


def test_processing_lecture(client, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a lecture still processing hidden from members, and shown to a trainer as 'not ready' without a player?"""
    seed_lecture(sqlite_factory, "lecProcessing", status="processing")
    page(client, f"{PREFIX}/lectures/lecProcessing", role="member", status=404)
    html = page(client, f"{PREFIX}/lectures/lecProcessing", role="trainer")
    assert t("player.not_ready", status=t("media.status_processing")) in html
    assert 'id="player"' not in html and "player-config" not in html


def test_lecture_without_transcript_has_no_captions(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Without a transcript, is there no captions track and a plain note instead of the transcript pane?"""
    (settings.transcripts_dir / LECTURE_ID / "transcript.json").unlink()
    html = page(client, PAGE)
    assert "<track" not in html and 'id="transcript"' not in html and t("player.no_transcript") in html


def test_transcript_text_is_escaped(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does markup in a transcript line show as text in the player's transcript pane?"""
    path = settings.transcripts_dir / LECTURE_ID / "transcript.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["segments"][0]["text"] = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    path.write_text(json.dumps(data), encoding="utf-8")
    html = page(client, PAGE)
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_rendition_menu_order() -> None:
    """Is the menu Tự động, the video rungs lowest first, then Chỉ nghe — and only Chỉ nghe without video — with
    Chỉ nghe naming its Opus playlist when there is one (none for a lecture published before it)?"""

    def rendition(name: str, height: int) -> RenditionOut:
        return RenditionOut(
            name=name,
            label=f"{height}p" if height else "Chỉ nghe",
            url=f"/m/{name}/index.m3u8",
            bandwidth=1,
            average_bandwidth=1,
            height=height,
            codecs="mp4a.40.2",
            bytes_per_hour=1,
        )

    links = dict(master="/m/master.m3u8", audio_playlist="/m/audio/index.m3u8", audio_file="/m/audio.m4a", poster="/p")
    renditions = [rendition("v720", 720), rendition("audio", 0), rendition("v240", 240), rendition("v360", 360)]
    choices = source_choices(MediaOut(**links, has_video=True, renditions=renditions))
    assert [(c.key, c.label, c.url) for c in choices] == [
        ("auto", "Tự động", "/m/master.m3u8"),
        ("v240", "240p", "/m/v240/index.m3u8"),
        ("v360", "360p", "/m/v360/index.m3u8"),
        ("v720", "720p", "/m/v720/index.m3u8"),
        ("audio", "Chỉ nghe", "/m/audio/index.m3u8"),
    ]
    audio_only = source_choices(MediaOut(**links, has_video=False, renditions=[rendition("audio", 0)]))
    assert [(c.key, c.url, c.opus) for c in audio_only] == [
        ("audio", "/m/audio/index.m3u8", "")
    ]  # published before Opus
    with_opus = source_choices(MediaOut(**links, opus_playlist="/m/opus/index.m3u8", has_video=True, renditions=[]))
    assert [(c.key, c.url, c.opus) for c in with_opus if c.opus] == [
        ("audio", "/m/audio/index.m3u8", "/m/opus/index.m3u8")
    ]


def test_clock_and_start_parsing() -> None:
    """Are times shown as mm:ss (h:mm:ss past an hour), and is ?t= read as seconds?"""
    assert [clock(0), clock(65.9), clock(3599), clock(3600), clock(7384), clock(None)] == [
        "00:00",
        "01:05",
        "59:59",
        "1:00:00",
        "2:03:04",
        "00:00",
    ]
    assert parse_start("90", None) == 90.0 and parse_start("90", 60.0) == 60.0 and parse_start("x", 60.0) is None


# --- the scripts ------------------------------------------------------------------------------------------


def test_player_script_is_cached_for_good_and_gzipped(client) -> None:  # type: ignore[no-untyped-def]
    """Is the player's script sent gzipped, cacheable for a year, and answered 304 when the browser has it?"""
    headers = auth("member", **{"Accept-Encoding": "gzip"})
    response = client.get(f"{PREFIX}/static/player.js", headers=headers)
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    assert b"diemcau.progress.queue" in response.content  # httpx unzipped it
    again = client.get(f"{PREFIX}/static/player.js", headers={**headers, "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content
    plain = client.get(f"{PREFIX}/static/player.js", headers=auth("member", **{"Accept-Encoding": "identity"}))
    assert "content-encoding" not in plain.headers and plain.content == response.content


def test_hls_js_comes_from_the_npm_package(client) -> None:  # type: ignore[no-untyped-def]
    """Is hls.js served from node_modules (installed by scripts/ensure_node.sh), gzipped to a third?"""
    installed = SOURCE_TREE / NPM_HLS_JS
    assert installed.is_file(), "hls.js missing: run `bash scripts/ensure_node.sh`"
    response = client.get(f"{PREFIX}/static/hls.light.min.js", headers=auth("member", **{"Accept-Encoding": "gzip"}))
    assert response.status_code == 200 and response.content == installed.read_bytes()
    assert int(response.headers["content-length"]) == len(gzip.compress(installed.read_bytes(), 9, mtime=0))
    assert int(response.headers["content-length"]) < len(response.content) / 3


def test_missing_hls_js_is_a_clear_503(tmp_path, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """When hls.js is not installed, does the route say which command installs it (and the page still render)?"""
    settings = load_settings(
        {
            "DIEMCAU_HOME": str(tmp_path / "var"),
            "DIEMCAU_PLAYER__HLS_JS": str(tmp_path / "no.js"),
            "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        }
    )
    client, _ = seeded_client(settings, sqlite_factory)
    seed_lecture_media(settings, sqlite_factory)
    response = client.get(f"{PREFIX}/static/hls.light.min.js", headers=auth("member"))
    assert response.status_code == 503 and "scripts/ensure_node.sh" in response.json()["detail"]
    assert script_config(page(client, PAGE))["hlsScript"] == f"{PREFIX}/static/hls.light.min.js"


@pytest.mark.parametrize("name", ["nope.js", "..%2Fplayer.py", ".hidden.js", "player.py", "assets.py", "x.css"])
def test_only_known_assets_are_served(client, name: str) -> None:  # type: ignore[no-untyped-def]
    """Is anything but an asset file of the static folder (or hls.js) a 404?"""
    assert client.get(f"{PREFIX}/static/{name}", headers=auth("member")).status_code == 404


# --- the portal -------------------------------------------------------------------------------------------


def post_progress(client, events: list[dict]) -> dict:  # type: ignore[no-untyped-def]
    url = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
    response = client.post(url, json={"events": events}, headers=auth("member"))
    assert response.status_code == 200, response.text
    return response.json()


def test_portal_lists_ready_lectures_with_coverage(client, sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Does each course list its ready lectures, linked to the player, as not watched and then with coverage?"""
    seed_lecture(sqlite_factory, "lecProcessing", status="processing")
    html = page(client, f"{PREFIX}/")
    listed = f'<a href="lectures/{LECTURE_ID}">Bài giảng 1</a> <span class="meta">{t("player.not_watched")}</span>'
    assert listed in html
    assert "lecProcessing" not in html
    opened_yesterday(sqlite_factory, ["a1001"])  # 300 s at once: about coverage, not the real-time bound
    body = post_progress(client, [{"event_id": "e1", "kind": "heartbeat", "start": 0, "end": 300, "seq": 1}])
    assert body["coverage_percent"] == pytest.approx(50)
    assert t("player.watched", percent=50) in page(client, f"{PREFIX}/")
    player = page(client, PAGE)  # the player resumes there, and says how much was followed
    assert script_config(player)["resume"] == 300.0 and t("player.coverage", percent=50) in player
    assert f"lectures/{LECTURE_ID}" not in page(client, f"{PREFIX}/", role="other_cell")


def test_portal_has_a_search_box(client) -> None:  # type: ignore[no-untyped-def]
    """Does the portal carry a plain GET form to the search page?"""
    html = page(client, f"{PREFIX}/")
    assert '<form class="search" method="get" action="search" role="search">' in html
    assert '<input type="search" name="q"' in html and t("search.button") in html


# --- the search page --------------------------------------------------------------------------------------


def index_lecture(settings, text: str) -> None:  # type: ignore[no-untyped-def]
    """Index cell A1's lecture with ``text`` said at 125 s."""
    index = open_index(settings)
    segments = [Segment(0, 0.0, 2.5, "Kính thưa các đồng chí"), Segment(1, 125.0, 131.0, text)]
    index.index_lecture(LectureMeta(LECTURE_ID, "Bài giảng 1", "nq-cb-a1"), segments)
    index.close()


def test_search_page_links_each_hit_to_the_player_at_its_time(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does a hit show the title, the time as mm:ss, the highlighted snippet, and open the player there?"""
    index_lecture(settings, "hôm nay chúng ta học tập nghị quyết")
    html = page(client, f"{PREFIX}/search?q=nghi+quyet")
    moment = t("player.play_from", time="02:05")
    assert f'<a href="{PREFIX}/lectures/{LECTURE_ID}?t=125">Bài giảng 1 · <time>{moment}</time></a>' in html
    assert "<p>hôm nay chúng ta học tập <mark>nghị</mark> <mark>quyết</mark></p>" in html
    assert t("search.hits_for", count=1, query="nghi quyet") in html
    assert 'value="nghi quyet"' in html


def test_search_page_is_scoped_to_the_members_courses(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does a member of another cell find nothing in cell A1's lecture?"""
    index_lecture(settings, "hôm nay chúng ta học tập nghị quyết")
    html = page(client, f"{PREFIX}/search?q=nghị+quyết", role="other_cell")
    assert t("search.no_hits") in html and f"lectures/{LECTURE_ID}" not in html


def test_search_page_keeps_transcript_markup_inert(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Does a transcript containing <script> show as text in the results, never as a tag?"""
    index_lecture(settings, 'nghị quyết <script>alert("x")</script> <img src=x onerror=alert(1)>')
    html = page(client, f"{PREFIX}/search?q=nghị+quyết")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;x&quot;)" in html


def test_search_page_without_query_shows_help(client) -> None:  # type: ignore[no-untyped-def]
    """Does the page without a query show the form and how to search, and no result count?"""
    html = page(client, f"{PREFIX}/search")
    assert t("search.help").split(".")[0] in html and 'id="hit-count"' not in html


@pytest.mark.parametrize("raw", [q for q in HOSTILE if q != "\ud800"])  # a lone surrogate cannot go in a URL
def test_search_page_survives_any_query(client, settings, raw: str) -> None:  # type: ignore[no-untyped-def]
    """Does any string a member can type give a results page, never an error?"""
    index_lecture(settings, "đảng viên học tập nghị quyết")
    response = client.get(f"{PREFIX}/search", params={"q": raw}, headers=auth("member", Accept="text/html"))
    assert response.status_code == 200 and "<script>alert(1)</script>" not in response.text


def test_trusted_snippet_only_passes_marks() -> None:
    """Is a snippet with only escaped text and <mark> kept as markup, and anything else escaped whole?"""
    assert str(trusted_snippet("a &lt;b&gt; <mark>c</mark>")) == "a &lt;b&gt; <mark>c</mark>"
    assert str(trusted_snippet('<mark>c</mark><img src=x onerror="y">')) == (
        "&lt;mark&gt;c&lt;/mark&gt;&lt;img src=x onerror=&#34;y&#34;&gt;"
    )
