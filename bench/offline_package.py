"""The offline package of a one-hour lecture, end to end: ``python bench/offline_package.py [--minutes 60]``.

Issue 17's "Light" goal: what a phone holds for one stored one-hour lecture is ≤ 12 MB. A real hub on the demo
province; a ``--minutes`` (default 60) audio lecture of looped synthetic Vietnamese speech (espeak-ng, as
``bench/media_packaging.py`` makes it) published through the real media pipeline (its AAC and Opus renditions),
given a transcript without Whisper (one caption every 6 s, imported as the tests' fixtures do) and a typical
material (a 30-page PDF of text, ``bench/offline_materials.py``'s). Then, on a phone in Chromium at 360×740 (the
offline browser tests' own harness, ``offline_phone``), the member presses *Tải về để học khi không có mạng* in
the real player, and we read back what Cache Storage holds, per cache and per kind of file: once as Chromium is
(Opus) and once, on a fresh phone, with Opus reported unsupported (as on an iPhone before iOS 17), which gives
the AAC package — the baseline — and the ratio.

Run: ``.venv/bin/python bench/offline_package.py [--minutes 60]``. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from media_packaging import SPEECH
from offline_materials import PARAGRAPH
from player_throttled import HIDE_OPUS
from tests.material_fixtures import pdf_bytes, seed_lecture_material

COURSE = "nq-trung-uong-demo"
MEMBER = "42000002"
GOAL_MB = 12.0
# Every file in every cache of this origin, by cache and by kind: what the device holds.
HELD = r"""async () => {
  const kind = (url) => {
    const path = new URL(url).pathname;
    if (/\/offline-note\.json$/.test(path)) return 'note';
    if (/\/api\/media\/.*\.(m3u8)$/.test(path)) return 'audio playlists';
    if (/\/api\/media\//.test(path)) return 'audio segments';
    if (/\/captions\.vtt$/.test(path)) return 'captions';
    if (/\/materials\//.test(path)) return 'materials';
    if (/\/quizzes\//.test(path) || /quiz[^/]*\.js$/.test(path)) return 'quizzes';
    if (/\/lectures\/[^/]+$/.test(path)) return 'player page (transcript inlined)';
    if (/\/courses$/.test(path)) return 'portal';
    return 'scripts';
  };
  const held = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name), parts = {};
    for (const request of await cache.keys()) {
      const bytes = (await (await cache.match(request)).blob()).size, k = kind(request.url);
      parts[k] = parts[k] || [0, 0];
      parts[k][0] += bytes;
      parts[k][1] += 1;
    }
    held[name] = parts;
  }
  return held;
}"""


def make_audio_source(folder: Path, minutes: float) -> Path:
    """A ``minutes``-long audio-only lecture: ``SPEECH`` (espeak-ng, Vietnamese) looped, as an m4a (AAC 128k)."""
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(wav), SPEECH], check=True)
    source = folder / "bai-giang.m4a"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(wav), "-t", str(minutes * 60)]
        + ["-c:a", "aac", "-b:a", "128k", str(source)],
        check=True,
    )
    return source


def captions(minutes: float) -> str:
    """A transcript as a trainer's caption file would give it: one line of the speech every 6 s."""
    words = SPEECH.split()
    cues = ["WEBVTT", ""]
    for i in range(int(minutes * 10)):
        start, end = i * 6, i * 6 + 6
        line = " ".join(words[(i * 7) % len(words) :][:12]) or SPEECH[:60]
        cues += [f"{clock(start)} --> {clock(end)}", line, ""]
    return "\n".join(cues)


def clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000"


def publish_lecture(hub, folder: Path, minutes: float) -> str:  # type: ignore[no-untyped-def]
    from diemcau.adapters.db.lectures import PublishRequest
    from diemcau.adapters.storage import stores_of
    from diemcau.adapters.transcript_import import import_captions
    from diemcau.jobs.publish import publish, wait_for

    source = make_audio_source(folder, minutes)
    request = PublishRequest(str(source), COURSE, "Bài giảng một giờ, tải về máy", "Báo cáo viên", transcribe=False)
    stores = stores_of(hub.settings)
    started = time.perf_counter()
    lecture_id = publish(hub.settings, hub.factory, stores.media, request).lecture_id
    record = wait_for(hub.settings, hub.factory, stores, lecture_id)
    assert record.status == "ready", record.error
    print(f"published {minutes:g} min of audio in {time.perf_counter() - started:.0f} s")
    (folder / "captions.vtt").write_text(captions(minutes), encoding="utf-8")
    import_captions(hub.factory, stores.transcripts, lecture_id, folder / "captions.vtt")
    material = pdf_bytes(tuple(PARAGRAPH * 12 for _ in range(30)))  # 30 printed pages of text
    seed_lecture_material(hub.settings, hub.factory, lecture_id, "Nghị quyết (30 trang).pdf", material)
    return lecture_id


def store_on_phone(hub, lecture: str, hide_opus: bool) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    """A fresh phone stores the lecture through the player's button; what its caches hold afterwards."""
    from tests.browser import log_in
    from tests.test_offline_browser import offline_phone

    with pytest.MonkeyPatch.context() as monkeypatch, offline_phone(monkeypatch) as (context, page, errors):
        page.set_default_timeout(300_000)  # a one-hour page (its whole transcript) on a busy machine
        if hide_opus:
            context.add_init_script(HIDE_OPUS)
        log_in(page, hub.url, MEMBER)
        page.goto(f"{hub.url}services/diemcau/lectures/{lecture}")
        page.wait_for_function("() => window.diemcauPlayer && document.getElementById('offline').hidden === false")
        audio = page.evaluate("() => window.diemcauPlayer.audioSource().url")
        page.click("#offline-save")
        page.wait_for_function("() => document.getElementById('offline-remove').hidden === false", timeout=600_000)
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        held = page.evaluate(HELD)
        shown = page.text_content("#offline-status")
        assert errors == [], errors
    print(f"\n{'AAC (Opus reported unsupported)' if hide_opus else 'Chromium as it is'}: stores {audio}")
    print(f"the player says: {shown}")
    return audio, held


def report(label: str, held: dict) -> float:
    total = 0
    for name, parts in sorted(held.items()):
        cache = sum(bytes_ for bytes_, _ in parts.values())
        total += cache
        print(f"  {name}: {cache / 1e6:.3f} MB")
        for kind, (bytes_, files) in sorted(parts.items(), key=lambda item: -item[1][0]):
            print(f"    {kind:34} {bytes_ / 1e6:8.3f} MB  {files:4} files")
    print(f"  {label} total held on the device: {total / 1e6:.2f} MB (goal ≤ {GOAL_MB} MB)")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the lecture")
    args = parser.parse_args()
    from tests.hubserver import start_hub

    from diemcau.demo.seed import seed_demo

    with tempfile.TemporaryDirectory() as tmp, contextlib.contextmanager(start_hub)(seed_demo) as hub:
        lecture = publish_lecture(hub, Path(tmp), args.minutes)
        opus_url, opus = store_on_phone(hub, lecture, hide_opus=False)
        aac_url, aac = store_on_phone(hub, lecture, hide_opus=True)
    print(f"\n{args.minutes:g}-minute lecture, one phone each (Chromium, 360×740), bytes in Cache Storage:")
    print(f"Opus ({opus_url.rsplit('/', 2)[-2]}):")
    opus_total = report("Opus", opus)
    print(f"AAC baseline ({aac_url.rsplit('/', 2)[-2]}):")
    aac_total = report("AAC", aac)
    over = opus_total / 1e6 - GOAL_MB
    print(
        f"\n{args.minutes:g} min: Opus {opus_total / 1e6:.2f} MB, AAC {aac_total / 1e6:.2f} MB; "
        f"Opus / AAC = {opus_total / aac_total:.2f}; goal ≤ {GOAL_MB} MB (for 60 min): "
        + ("met" if over <= 0 else f"NOT met, over by {over:.2f} MB")
    )


if __name__ == "__main__":
    main()
