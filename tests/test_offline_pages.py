"""Offline lessons, server side: the service worker's route, the offline blocks of the portal and the player, and
what they add to a first visit. The same in real Chromium, offline: ``tests/test_offline_browser.py``."""

from __future__ import annotations

import gzip
import json
import re

from diemcau.apps.api.pages.assets import STATIC_DIR
from diemcau.i18n import t
from tests.apiclient import PREFIX, auth
from tests.test_player_pages import PAGE, client, page  # noqa: F401 (client is a fixture)
from tests.transcript_fixtures import LECTURE_ID

BLOCK = re.compile(r'<section id="offline-list".*?offline\.js\?v=\w+" defer></script>', re.S)
WEIGHT_BUDGET = 10 * 1024  # what the portal's first load may grow by, gzipped (issue 17)


def offline_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="offline-config">(.*?)</script>', html, re.S)
    assert found, "no offline config in the page"
    return json.loads(found.group(1))


def test_the_service_worker_is_served_from_the_portals_path_and_always_revalidated(client) -> None:  # noqa: F811
    """Is sw.js served at the portal's path (so its scope is the portal), as JavaScript, never cached stale?"""
    response = client.get(f"{PREFIX}/sw.js", headers=auth("member"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    assert client.get(f"{PREFIX}/sw.js", follow_redirects=False).status_code == 302  # no login: to the login page


def test_the_offline_scripts_reach_nothing_but_this_origin() -> None:
    """Do the service worker and offline.js name no other host (no CDN, nothing on the internet)?"""
    for name in ("sw.js", "offline.js"):
        source = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", source), name
        assert "importScripts" not in source and "eval(" not in source, name


def test_the_player_offers_the_download_with_the_audio_rendition_and_captions(client) -> None:  # noqa: F811
    """Does the player carry the button, its texts and what to store: page, captions, poster, audio playlist?"""
    html = page(client, PAGE)
    assert t("offline.save") in html and t("offline.remove") in html
    config = offline_config(html)
    assert config["worker"] == f"{PREFIX}/sw.js" and config["prefix"] == PREFIX
    lecture = config["lecture"]
    assert lecture["id"] == LECTURE_ID and lecture["page"] == PAGE
    assert lecture["captions"] == f"{PREFIX}/api/lectures/{LECTURE_ID}/captions.vtt"
    assert lecture["audio"].endswith("/audio/index.m3u8")
    assert config["text"]["saving"] == t("offline.saving")
    assert re.fullmatch(rf"{PREFIX}/static/offline\.js\?v=\w+", config["script"])  # player.js loads it after load
    assert not re.search(r'<script src="[^"]*offline\.js', html)  # not before the first sound
    # Whose stored lectures and kept work these are; quiz.js, loaded to send kept quiz attempts from any page.
    assert config["member"] == "a1001" and re.fullmatch(rf"{PREFIX}/static/quiz\.js\?v=\w+", config["quiz_script"])
    assert config["material_max"] == 1_500_000  # player.offline_material_max_bytes: materials beyond stay out


def test_the_portal_grows_by_less_than_ten_kilobytes_on_a_first_visit(client) -> None:  # noqa: F811
    """Is what the offline slice adds to the portal's first load (its block, offline.js) within 10 KB gzipped?
    The worker itself is fetched after the load event."""
    html = page(client, f"{PREFIX}/")
    assert BLOCK.search(html), "no offline block in the portal"
    assert offline_config(html)["member"] == "a1001"  # the portal's own member (a shared phone)
    before = len(gzip.compress(BLOCK.sub("", html).encode(), 9))
    script = client.get(f"{PREFIX}/static/offline.js", headers=auth("member", **{"Accept-Encoding": "gzip"}))
    added = len(gzip.compress(html.encode(), 9)) - before + len(gzip.compress(script.content, 9))
    assert added <= WEIGHT_BUDGET, added
