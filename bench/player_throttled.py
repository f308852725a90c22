"""Start-up and stalls of the lecture player on a 256 kbps, 300 ms RTT link: Chỉ nghe against 360p.

Chỉ nghe is measured twice per engine, in the same run: in Opus (what Chromium gets) and in AAC (Opus reported
unsupported, as on an iPhone before iOS 17), so the two renditions' start-up and bytes compare directly.

The player's client — Debian's Chromium driving the real player page — runs in a network namespace whose
veth link to the host is shaped to 256 kbps each way with 300 ms of round trip (see ``throttle_link.py`` for
how, on a kernel without netem). The server is a real hub with the demo province and a generated 640×360
lecture (the playing time plus 2 minutes) published through the real pipeline. For each rendition, a fresh
browser (cold cache) logs in, opens the player and presses ▶ the moment the page shows; we record when sound
starts (the media element's ``playing``) and every stall (``waiting`` → ``playing``) over 5 minutes of
playback, plus the bytes on the wire. A second visit with the cache warm (page assets, hls.js), at a moment of
the lecture the first visit never fetched (a search hit's ``?t=``), gives the repeat-visit start.

Run (root, for the namespace): ``.venv/bin/python bench/player_throttled.py [--minutes 5] [--mode netns|cdp]``.
``--mode cdp`` (or a machine where the namespace cannot be made) throttles with Chromium's own
``Network.emulateNetworkConditions`` instead — a different, per-request model, labelled as such.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from throttle_link import HOST_IP, DelayRelay, LinkSpec, namespace, netem_available  # noqa: E402

SPEECH = "Kính thưa các đồng chí, hôm nay chúng ta học tập, quán triệt nghị quyết của Ban Chấp hành Trung ương"
# (name, rendition, hide the browser's own HLS?, demo login, label). Chromium has native HLS, so hls.js plays
# Chỉ nghe only where that is hidden — as in Firefox; video goes through hls.js either way. Each scenario is
# another demo account (all enrolled in the demo course), so none resumes where the one before stopped.
# Chromium plays Opus, so Chỉ nghe is the Opus rendition there; the "AAC" scenarios report Opus unsupported
# (as an iPhone before iOS 17 would), which makes the player take the AAC rendition: Opus against AAC, same run.
SCENARIOS = (
    ("audio", "audio", False, "42000002", "Chỉ nghe Opus, browser's own HLS"),
    ("audio-aac", "audio", False, "42000003", "Chỉ nghe AAC, browser's own HLS"),
    ("audio-hlsjs", "audio", True, "42000001", "Chỉ nghe Opus, hls.js (no native HLS)"),
    ("audio-hlsjs-aac", "audio", True, "42000004", "Chỉ nghe AAC, hls.js (no native HLS)"),
    ("v360", "v360", False, "42000021", "360p via hls.js (baseline)"),
)
EXTRA_MEMBERS = ("42000003", "42000004")  # demo members without a demo password: given one here
HIDE_NATIVE_HLS = (
    "const can = HTMLMediaElement.prototype.canPlayType; HTMLMediaElement.prototype.canPlayType ="
    " function (type) { return /mpegurl/i.test(type) ? '' : can.call(this, type); };"
)
HIDE_OPUS = (
    "const supported = MediaSource.isTypeSupported.bind(MediaSource);"
    " MediaSource.isTypeSupported = (type) => /opus/i.test(type) ? false : supported(type);"
    " const plays = HTMLMediaElement.prototype.canPlayType; HTMLMediaElement.prototype.canPlayType ="
    " function (type) { return /opus/i.test(type) ? '' : plays.call(this, type); };"
)
SPEC = LinkSpec(rate_kbit=256, rtt_ms=300)
# Recorded in the page from its first script on: when ▶ was pressed, when sound started, each stall.
INSTRUMENT = """
(() => {
  const m = window.__bench = {pressed: null, playing: null, stalls: [], waitingSince: null};
  document.addEventListener('DOMContentLoaded', () => {
    const v = document.getElementById('player');
    if (!v) return;
    v.muted = true;
    m.pressed = performance.now();
    v.play().catch(() => {});  // the member presses play as soon as the page shows
    v.addEventListener('playing', () => {
      const now = performance.now();
      if (m.playing === null) m.playing = now;
      if (m.waitingSince !== null) { m.stalls.push(now - m.waitingSince); m.waitingSince = null; }
    });
    v.addEventListener('waiting', () => {
      if (m.playing !== null && !v.seeking && m.waitingSince === null) m.waitingSince = performance.now();
    });
  });
})();
"""


def make_source(folder: Path, minutes: float) -> Path:
    """A ``minutes``-long 640x360 lecture-like source: test pattern, looped Vietnamese speech."""
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(wav), SPEECH], check=True)
    source, seconds = folder / "source.mp4", str(minutes * 60)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=640x360:rate=25:duration={seconds}",
            "-stream_loop",
            "-1",
            "-i",
            str(wav),
            "-t",
            seconds,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "20",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            str(source),
        ],
        check=True,
    )
    return source


# --- the client (runs inside the namespace) ---------------------------------------------------------------


def client(job: dict) -> dict:
    """Log in, open the player with ``job['choice']`` and measure; returns the figures."""
    from playwright.sync_api import sync_playwright

    from diemcau.demo.seed import DEMO_PASSWORD
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
        context.set_default_timeout(180_000)
        context.add_init_script(f"localStorage.setItem('diemcau.rendition', {json.dumps(json.dumps(job['choice']))});")
        if job["hide_native"]:
            context.add_init_script(HIDE_NATIVE_HLS)
        if job["name"].endswith("-aac"):
            context.add_init_script(HIDE_OPUS)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if job["cdp"]:
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": SPEC.rtt_ms,
                    "downloadThroughput": SPEC.rate_kbit * 1000 / 8,
                    "uploadThroughput": SPEC.rate_kbit * 1000 / 8,
                },
            )
        received = [0.0]
        cdp.on("Network.loadingFinished", lambda e: received.__setitem__(0, received[0] + e["encodedDataLength"]))
        page.goto(f"{job['url']}hub/login")
        page.fill("#username_input", job["user"])
        page.fill("#password_input", DEMO_PASSWORD)
        page.click("#login_submit")
        page.wait_for_url("**/services/diemcau/**")
        context.add_init_script(INSTRUMENT)
        player = f"{job['url']}services/diemcau/lectures/{job['lecture']}"
        cold = visit(page, player, job["seconds"], received)
        # Again with the cache warm (page assets, hls.js), at a moment the first visit never fetched.
        warm = visit(page, f"{player}?t={int(job['seconds']) + 75}", 0, received)
        browser.close()
    return {"cold": cold, "warm": warm}


def visit(page, url: str, seconds: float, received: list[float]) -> dict:  # type: ignore[no-untyped-def]
    """Open the player, wait for sound, play for ``seconds``; what the page recorded."""
    before = received[0]
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_function("() => window.__bench && window.__bench.playing !== null", timeout=120_000, polling=50)
    except Exception:
        state = page.evaluate(
            """() => { const v = document.getElementById('player');
                       return {src: v.currentSrc, ready: v.readyState, network: v.networkState, paused: v.paused,
                               error: v.error && v.error.message, status: document.getElementById('player-status')
                               .textContent, bench: window.__bench}; }"""
        )
        raise RuntimeError(f"no sound after 120 s at {url}: {state}") from None
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(5)
    figures = page.evaluate(
        """() => { const m = window.__bench, v = document.getElementById('player');
                   const stalls = m.stalls.concat(m.waitingSince === null ? [] : [performance.now() - m.waitingSince]);
                   return {pressed: m.pressed, playing: m.playing, stalls: stalls, position: v.currentTime,
                           height: v.videoHeight, src: v.currentSrc.slice(0, 5),
                           opus: performance.getEntriesByType('resource').some(e => /\/opus\/seg_/.test(e.name))};
                 }"""
    )
    return {**figures, "bytes": received[0] - before}


# --- the orchestrator (on the host) -----------------------------------------------------------------------


def run_client(job: dict, netns: str | None) -> dict:
    """The client in its own process (inside ``netns`` when given); its figures."""
    command = [sys.executable, __file__, "--client", json.dumps(job)]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=job["seconds"] + 900, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"client failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def publish_lecture(hub, minutes: float) -> str:  # type: ignore[no-untyped-def]
    from diemcau.adapters.db.lectures import PublishRequest
    from diemcau.adapters.storage import stores_of
    from diemcau.jobs.publish import publish, wait_for

    folder = Path(tempfile.mkdtemp(prefix="player-bench-"))
    source = make_source(folder, minutes)
    request = PublishRequest(str(source), "nq-trung-uong-demo", "Bài giảng đo thử", transcribe=False)
    stores = stores_of(hub.settings)
    lecture_id = publish(hub.settings, hub.factory, stores.media, request).lecture_id
    record = wait_for(hub.settings, hub.factory, stores, lecture_id)
    assert record.status == "ready", record.error
    return lecture_id


def measure(mode: str, minutes: float) -> tuple[str, dict[str, dict]]:
    from diemcau.adapters.db import accounts
    from diemcau.adapters.passwords import SecretVerifier
    from diemcau.demo.seed import DEMO_PASSWORD, seed_demo
    from tests.hubserver import start_hub

    results: dict[str, dict] = {}
    with contextlib.contextmanager(start_hub)(seed_demo) as hub:
        verifier = SecretVerifier.from_settings(hub.settings.auth)
        for username in EXTRA_MEMBERS:
            accounts.set_password(hub.factory, username, DEMO_PASSWORD, verifier=verifier)
        lecture = publish_lecture(hub, minutes + 2)
        hub_port = int(hub.url.rsplit(":", 1)[1].strip("/"))
        if mode == "cdp":
            label = "Chromium CDP throttling (Network.emulateNetworkConditions: 300 ms per request, 32 KB/s)"
            for name, choice, hide, user, _ in SCENARIOS:
                job = {
                    "name": name,
                    "url": hub.url,
                    "lecture": lecture,
                    "choice": choice,
                    "seconds": minutes * 60,
                    "cdp": True,
                    "hide_native": hide,
                    "user": user,
                }
                results[name] = run_client(job, None)
            return label, results
        netem_error = netem_available()
        label = (
            "netns + veth, tc netem 256 kbit + 150 ms each way"
            if not netem_error
            else f"netns + veth, tc tbf 256 kbit each way + 150 ms each way by a TCP delay relay "
            f"(tc netem refused: '{netem_error}')"
        )
        with namespace("dcplayer", SPEC, use_netem=not netem_error) as ns:
            one_way = 0.0 if not netem_error else SPEC.rtt_ms / 2000
            with DelayRelay((HOST_IP, hub_port), ("127.0.0.1", hub_port), one_way):
                url = f"http://{HOST_IP}:{hub_port}/"
                for name, choice, hide, user, _ in SCENARIOS:
                    job = {
                        "name": name,
                        "url": url,
                        "lecture": lecture,
                        "choice": choice,
                        "seconds": minutes * 60,
                        "cdp": False,
                        "hide_native": hide,
                        "user": user,
                    }
                    results[name] = run_client(job, ns)
    return label, results


def report(label: str, results: dict[str, dict], minutes: float) -> None:
    print(f"link: {label}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'rendition':<34} {'start cold':>10} {'start warm':>10} {'stalls':>6} {'stalled s':>9} {'MB':>6} "
        f"{'reached':>8}"
    )
    for key, _, _, _, name in SCENARIOS:
        cold, warm = results[key]["cold"], results[key]["warm"]
        print(
            f"{name:<34} {cold['playing'] / 1000:>9.2f}s {warm['playing'] / 1000:>9.2f}s "
            f"{len(cold['stalls']):>6} {sum(cold['stalls']) / 1000:>9.1f} {cold['bytes'] / 1e6:>6.2f} "
            f"{cold['position']:>7.0f}s{'  (Opus segments)' if cold.get('opus') else ''}"
        )
    for engine in ("", "-hlsjs"):
        opus, aac = results[f"audio{engine}"]["cold"], results[f"audio{engine}-aac"]["cold"]
        print(
            f"Chỉ nghe{' via hls.js' if engine else ''}: Opus starts in {opus['playing'] / 1000:.2f} s, AAC in "
            f"{aac['playing'] / 1000:.2f} s; bytes on the wire Opus / AAC = {opus['bytes'] / aac['bytes']:.2f}"
        )
    audio, video = results["audio"]["cold"], results["v360"]["cold"]
    print(
        f"start-up ratio 360p / Chỉ nghe: {video['playing'] / audio['playing']:.1f}x; goal < 3 s and 0 stalls "
        f"over {minutes:g} min: {'met' if audio['playing'] < 3000 and not audio['stalls'] else 'NOT met'}"
    )
    print(json.dumps({"label": label, "minutes": minutes, "results": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--mode", choices=("netns", "cdp"), default="netns")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(client(json.loads(args.client))))
        return
    mode = args.mode
    if mode == "netns":
        probe = subprocess.run(["ip", "netns", "add", "dcprobe"], capture_output=True, text=True)
        subprocess.run(["ip", "netns", "del", "dcprobe"], capture_output=True)
        if probe.returncode != 0:
            print(f"network namespace refused ({probe.stderr.strip()}); falling back to CDP throttling")
            mode = "cdp"
    label, results = measure(mode, args.minutes)
    report(label, results, args.minutes)


if __name__ == "__main__":
    main()
