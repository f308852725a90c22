"""``diemcau lecture add-opus``: the Opus rendition added to a lecture published before it (``media.add_opus``).

The lecture is the seeded one with its media as an earlier publish left it (AAC only, no ``opus_playlist``), its
``audio.m4a`` real espeak-ng speech; the CLI runs in process against a real data directory; the API reads the
same store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from diemcau.adapters.storage import STAGING, stores_of
from diemcau.apps import setup_steps
from diemcau.apps.cli import app as cli
from diemcau.media.add_opus import add_opus
from diemcau.media.package import MANIFEST
from diemcau.media.transcode import OPUS_CODEC, OPUS_INIT
from diemcau.settings import Settings, load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.data_dirs import data_dir_environ
from tests.media_fixtures import FAKE_SHA, make_speech, seed_lecture_media
from tests.transcript_fixtures import LECTURE_ID


@dataclass
class Published:
    """A data directory whose one ready lecture has AAC media only, as published before Opus, and the API on it."""

    settings: Settings
    environ: dict[str, str]
    folder: Path
    client: TestClient


@pytest.fixture
def published(tmp_path: Path) -> Published:
    environ = data_dir_environ(tmp_path, DIEMCAU_PERF__LECTURE_SECONDS="0")
    settings = load_settings(environ)
    setup_steps.ensure_data_dir(settings)
    factory = setup_steps.ensure_database(settings)
    client, _ = seeded_client(settings, factory)
    seed_lecture_media(settings, factory)
    folder = settings.media_dir / FAKE_SHA
    make_speech(folder / "audio.m4a")
    return Published(settings, environ, folder, client)


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def test_an_older_lecture_gets_opus_once_and_players_are_offered_it(
    published: Published,
) -> None:
    """Does `add-opus` encode the Opus rendition from the package's audio file (fMP4 with its init segment, the
    lowercase codec hls.js needs), name it in the manifest beside the AAC one, offer it to the member's player
    through the API, show it in `lecture show`, and do nothing the second time?"""
    environ, folder, client = published.environ, published.folder, published.client
    assert (
        client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}", headers=auth("member")).json()["media"]["opus_playlist"]
        is None
    )
    before = manifest_of(folder)

    first = CliRunner().invoke(cli, ["lecture", "add-opus"], env=environ, catch_exceptions=False)
    assert first.exit_code == 0 and "Opus added" in first.output, first.output
    after = manifest_of(folder)
    assert after["opus_playlist"] == "opus/index.m3u8"
    assert [r["name"] for r in after["renditions"]] == ["audio", "opus"]
    assert after["renditions"][0] == before["renditions"][0]  # the AAC rendition as it was
    opus = after["renditions"][1]
    assert opus["codecs"] == OPUS_CODEC and opus["bytes"] > 0 and opus["height"] == 0
    playlist = (folder / "opus" / "index.m3u8").read_text()
    assert OPUS_INIT in playlist and (folder / "opus" / OPUS_INIT).is_file()
    assert all((folder / "opus" / name).is_file() for name in playlist.splitlines() if name.endswith(".m4s"))

    media = client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}", headers=auth("member")).json()["media"]
    assert media["opus_playlist"] == f"{PREFIX}/api/media/{LECTURE_ID}/opus/index.m3u8"
    shown = CliRunner().invoke(cli, ["lecture", "show", LECTURE_ID, "--json"], env=environ, catch_exceptions=False)
    assert [r["codec"] for r in json.loads(shown.stdout)["renditions"]] == ["mp4a.40.2", OPUS_CODEC]

    again = CliRunner().invoke(cli, ["lecture", "add-opus", LECTURE_ID], env=environ, catch_exceptions=False)
    assert again.exit_code == 0 and "has Opus already" in again.output
    assert manifest_of(folder) == after


def test_a_run_cut_after_the_folder_was_published_is_completed(
    published: Published,
) -> None:
    """With ``opus/`` published but the old manifest still there (a run killed between the two renames), does
    the next run describe the folder that is there and publish the manifest?"""
    folder = published.folder
    old = (folder / MANIFEST).read_bytes()
    media = stores_of(published.settings).media
    added = add_opus(media, FAKE_SHA)
    (folder / MANIFEST).write_bytes(old)
    redone = add_opus(media, FAKE_SHA)
    assert added.rendition is not None and redone.rendition == added.rendition
    assert manifest_of(folder)["opus_playlist"] == "opus/index.m3u8"


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_a_damaged_or_missing_audio_file_is_reported_and_changes_nothing(published: Published, damage: str) -> None:
    """Does a package whose audio file is damaged or gone get a clear message and exit 1, leaving its manifest,
    no ``opus/`` and nothing in the volume's staging area?"""
    environ, folder = published.environ, published.folder
    if damage == "garbage":
        (folder / "audio.m4a").write_bytes(b"\x00not audio at all" * 100)
    else:
        (folder / "audio.m4a").unlink()
    before = (folder / MANIFEST).read_bytes()
    result = CliRunner().invoke(cli, ["lecture", "add-opus"], env=environ, catch_exceptions=False)
    assert result.exit_code == 1 and "could not get Opus" in result.output
    expected = "could not be processed" if damage == "garbage" else "not in the media store"
    assert expected in result.output, result.output
    assert (folder / MANIFEST).read_bytes() == before and not (folder / "opus").exists()
    staging = published.settings.media_dir / STAGING
    assert not staging.exists() or not any(staging.iterdir())


def test_an_unknown_lecture_is_refused_before_anything_is_encoded(
    published: Published,
) -> None:
    """Is a lecture id that is not a ready lecture refused by name, with nothing encoded?"""
    environ, folder = published.environ, published.folder
    result = CliRunner().invoke(cli, ["lecture", "add-opus", "../../etc"], env=environ, catch_exceptions=False)
    assert result.exit_code == 1 and "'../../etc'" in result.output
    assert not (folder / "opus").exists()
