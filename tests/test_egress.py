"""No SSRF: a publish-by-URL reaches only public addresses, on every hop, through the worker's egress guard.

The rule is pure (``core.egress``); the guard is a real proxy on a loopback port; the fetches run real yt-dlp
(and real ffmpeg where yt-dlp hands a stream to it). DNS and the internet are the one fake (``FakeInternet``):
public-looking names are routed to a test server on loopback, so the guard judges the address a name resolves
to, never where the test server really listens.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from diemcau.core.egress import EgressPolicy
from diemcau.i18n import t
from diemcau.media.egress_guard import EgressGuard
from diemcau.media.errors import MediaError
from diemcau.media.fetch import fetch_url
from diemcau.media.types import Limits
from tests.fakes import FakeInternet
from tests.media_fixtures import ffmpeg

PUBLIC = "93.184.215.14"  # what the fake DNS gives for cdn.example.vn; routed to the test server
LIMITS = Limits(600.0, 64 * 2**20)

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.192",
    "198.18.0.1",
    "203.0.113.5",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "fec0::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::1",
    "::127.0.0.1",
]
PUBLIC_ADDRESSES = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2001:4860:4860::8888"]
METADATA = ["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    """Is every loopback, private, link-local, shared, multicast, unspecified, reserved, documentation or
    metadata address refused — IPv4, IPv6, and IPv4 carried in IPv6?"""
    assert not EgressPolicy().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(address: str) -> None:
    """Are globally routable addresses allowed?"""
    assert EgressPolicy().permits(ipaddress.ip_address(address))


def test_private_networks_setting_opens_them_but_never_metadata() -> None:
    """With ``fetch_private_networks``, are intranet and loopback addresses allowed, and metadata still not?"""
    policy = EgressPolicy(allow_private=True)
    assert all(policy.permits(ipaddress.ip_address(a)) for a in ("10.0.0.5", "192.168.1.10", "127.0.0.1", "::1"))
    assert not any(policy.permits(ipaddress.ip_address(a)) for a in METADATA)


def test_a_name_with_one_private_address_is_refused() -> None:
    """Is a name that resolves to a public and a private address refused (whichever a client would pick)?"""
    mixed = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")]
    assert not EgressPolicy().permits_all(mixed) and not EgressPolicy().permits_all([])


# --- the guard, spoken to directly ---


@pytest.fixture
def listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """A bare TCP listener on loopback (a database port, say) that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def ask(guard: EgressGuard, request: str) -> str:
    """Send one raw request to the guard; its status line."""
    port = int(guard.proxy_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(4096).decode("latin-1").split("\r\n")[0]


@pytest.mark.parametrize("target", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "db.example.vn"])
def test_guard_refuses_before_connecting(listener: tuple[int, list[socket.socket]], target: str) -> None:
    """Does the guard answer 403 to CONNECT and to plain HTTP for a loopback destination — by address, by name,
    IPv4-mapped, as a decimal number, or a public-looking name that resolves to 127.0.0.1 — and never connect?"""
    port, accepted = listener
    # The system's resolver for the real names (localhost, 2130706433 = 127.0.0.1); the fake DNS for the other.
    internet = FakeInternet({"db.example.vn": ["127.0.0.1"]}) if target == "db.example.vn" else None
    with EgressGuard(EgressPolicy(), internet) as guard:
        assert ask(guard, f"CONNECT {target}:{port} HTTP/1.1\r\nHost: {target}:{port}\r\n\r\n").split()[1] == "403"
        assert ask(guard, f"GET http://{target}:{port}/api/routes HTTP/1.1\r\nHost: x\r\n\r\n").split()[1] == "403"
        assert [r.reason for r in guard.refusals] == ["forbidden", "forbidden"]
    assert accepted == [] and (internet is None or internet.connected == [])


@pytest.mark.parametrize(
    "request_line",
    ["GET /api/routes HTTP/1.1", "GET https://{target}/ HTTP/1.1", "CONNECT 127.0.0.1 HTTP/1.1", "HELLO"],
)
def test_guard_refuses_what_it_cannot_check(listener: tuple[int, list[socket.socket]], request_line: str) -> None:
    """Are requests without a destination the guard can check (origin form, an https:// target, a CONNECT
    without a port, garbage) answered 400 and never forwarded, even with private networks allowed?"""
    port, accepted = listener
    with EgressGuard(EgressPolicy(allow_private=True)) as guard:
        line = request_line.format(target=f"127.0.0.1:{port}")
        assert ask(guard, f"{line}\r\nHost: 127.0.0.1:{port}\r\n\r\n").split()[1] == "400"
    assert accepted == []


def test_guard_connects_to_the_address_it_checked(listener: tuple[int, list[socket.socket]]) -> None:
    """Does the guard resolve the name itself and connect to the address it checked (so a second DNS answer
    cannot send the connection elsewhere)?"""
    port, accepted = listener
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    with EgressGuard(EgressPolicy(), internet) as guard:
        assert ask(guard, "CONNECT cdn.example.vn:443 HTTP/1.1\r\n\r\n").split()[1] == "200"
    assert internet.connected == [(PUBLIC, 443)] and len(accepted) == 1


# --- fetches through the guard: real yt-dlp against a test server ---


class _Origin(SimpleHTTPRequestHandler):
    """Serves a folder, records every path asked for, and answers ``/go?to=URL`` with a redirect to URL."""

    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/go?to="):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/go?to="))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short audio file, and the same audio as HLS (``hls/list.m3u8`` with segments ``seg0.ts`` ...)."""
    root = tmp_path_factory.mktemp("egress-media")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=400:duration=3", "-c:a", "aac", str(root / "bai-giang.m4a"))
    (root / "hls").mkdir()
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=400:duration=3",
        "-c:a",
        "aac",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
        str(root / "hls" / "seg%d.ts"),
        str(root / "hls" / "list.m3u8"),
    )
    return root


@pytest.fixture
def origin(media: Path) -> Iterator[tuple[int, list[str]]]:
    """The media folder on a loopback HTTP server; (port, paths asked for)."""
    hits: list[str] = []
    handler = type("Origin", (_Origin,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(media)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def playlist(media: Path, name: str, segment_base: str) -> str:
    """Write ``hls/<name>``: the HLS playlist with every segment at ``segment_base`` (absolute URLs)."""
    text = (media / "hls" / "list.m3u8").read_text()
    lines = [f"{segment_base}/hls/{line}" if line.startswith("seg") else line for line in text.splitlines()]
    (media / "hls" / name).write_text("\n".join(lines) + "\n")
    return f"/hls/{name}"


def refused(url: str, tmp_path: Path, internet: FakeInternet | None = None) -> MediaError:
    """Fetch ``url`` with private networks closed; the error it must end in."""
    with pytest.raises(MediaError) as error:
        fetch_url(url, tmp_path, LIMITS, egress=EgressPolicy(), network=internet)
    return error.value


def test_direct_loopback_url_is_refused(origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Is a loopback URL refused with the one message, final, and without a single request reaching it?"""
    port, hits = origin
    url = f"http://127.0.0.1:{port}/bai-giang.m4a"
    error = refused(url, tmp_path)
    assert (error.code, error.transient) == ("url_unreachable", False)
    assert error.message() == t("media.url_unreachable", url=url)
    assert hits == []


def test_public_looking_name_resolving_to_loopback_is_refused(origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Is ``media.example.vn`` refused when DNS says 127.0.0.1 — and fetched when private networks are allowed
    (so it is the guard's own resolution that decides)?"""
    port, hits = origin
    internet = FakeInternet({"media.example.vn": ["127.0.0.1"]})
    url = f"http://media.example.vn:{port}/bai-giang.m4a"
    assert refused(url, tmp_path / "off", internet).message() == t("media.url_unreachable", url=url)
    assert hits == []
    fetched = fetch_url(url, tmp_path / "on", LIMITS, egress=EgressPolicy(allow_private=True), network=internet)
    assert fetched.size_bytes == (tmp_path / "on" / fetched.path.name).stat().st_size > 0
    assert "/bai-giang.m4a" in hits


def test_redirect_to_loopback_is_refused(origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Does a public server's redirect to a loopback address end in the refusal, the target never asked?"""
    port, hits = origin
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    target = f"http://127.0.0.1:{port}/bai-giang.m4a"
    url = f"http://cdn.example.vn/go?to={target}"
    assert refused(url, tmp_path, internet).message() == t("media.url_unreachable", url=url)
    assert hits == [f"/go?to={target}"]


def test_redirect_to_a_public_server_is_followed(origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Is a redirect between public addresses followed as before (the guard is not a wall)?"""
    port, hits = origin
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    fetched = fetch_url("http://cdn.example.vn/go?to=/bai-giang.m4a", tmp_path, LIMITS, network=internet)
    assert fetched.size_bytes > 0 and "/bai-giang.m4a" in hits


def test_hls_segments_on_loopback_are_refused(media: Path, origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Is an HLS playlist on a public server whose segments point at loopback refused, no segment asked for —
    while the same playlist with public segments downloads?"""
    port, hits = origin
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    evil = playlist(media, "evil.m3u8", f"http://127.0.0.1:{port}")
    url = f"http://cdn.example.vn{evil}"
    assert refused(url, tmp_path / "evil", internet).message() == t("media.url_unreachable", url=url)
    assert not any("seg" in hit for hit in hits)
    good = playlist(media, "good.m3u8", "http://cdn.example.vn")
    fetched = fetch_url(f"http://cdn.example.vn{good}", tmp_path / "good", LIMITS, network=internet)
    assert fetched.size_bytes > 0 and any("seg" in hit for hit in hits)


def test_media_link_found_in_a_page_is_checked(media: Path, origin: tuple[int, list[str]], tmp_path: Path) -> None:
    """Is a ``<video src>`` that yt-dlp finds in a public page, pointing at loopback, refused too?"""
    port, hits = origin
    (media / "page.html").write_text(
        f'<html><body><video src="http://127.0.0.1:{port}/bai-giang.m4a"></video></body></html>'
    )
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    url = "http://cdn.example.vn/page.html"
    assert refused(url, tmp_path, internet).message() == t("media.url_unreachable", url=url)
    assert "/bai-giang.m4a" not in hits


def test_ffmpeg_cannot_go_around_the_guard(
    media: Path, origin: tuple[int, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When yt-dlp hands an HLS stream to ffmpeg (AES-128 without pycryptodomex), does ffmpeg fetch through the
    guard too — even with ``no_proxy`` exempting loopback in the worker's environment: public segments download,
    loopback segments are refused and never asked for?"""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    port, hits = origin
    aes = media / "aes"
    aes.mkdir(exist_ok=True)
    (aes / "key.bin").write_bytes(bytes(range(16)))
    (aes / "keyinfo").write_text(f"http://cdn.example.vn/aes/key.bin\n{aes / 'key.bin'}\n")
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=400:duration=3",
        "-c:a",
        "aac",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
        "-hls_key_info_file",
        str(aes / "keyinfo"),
        "-hls_segment_filename",
        str(aes / "seg%d.ts"),
        str(aes / "list.m3u8"),
    )
    text = (aes / "list.m3u8").read_text()
    for name, base in (("good.m3u8", "http://cdn.example.vn"), ("evil.m3u8", f"http://127.0.0.1:{port}")):
        lines = [f"{base}/aes/{line}" if line.startswith("seg") else line for line in text.splitlines()]
        (aes / name).write_text("\n".join(lines) + "\n")
    internet = FakeInternet({"cdn.example.vn": [PUBLIC]}, routes={PUBLIC: port})
    url = "http://cdn.example.vn/aes/evil.m3u8"
    assert refused(url, tmp_path / "evil", internet).message() == t("media.url_unreachable", url=url)
    assert not any("seg" in hit for hit in hits)
    fetched = fetch_url("http://cdn.example.vn/aes/good.m3u8", tmp_path / "good", LIMITS, network=internet)
    assert fetched.size_bytes > 0 and any("/aes/seg" in hit for hit in hits)


def test_unreachable_destination_is_retried(tmp_path: Path) -> None:
    """With private networks allowed, is a closed port a transient failure (retried by the job), with the same
    message as a refused address?"""
    unused = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{unused.getsockname()[1]}/bai-giang.m4a"
    unused.close()
    with pytest.raises(MediaError) as error:
        fetch_url(url, tmp_path, LIMITS, egress=EgressPolicy(allow_private=True))
    assert (error.value.code, error.value.transient) == ("url_unreachable", True)
    assert error.value.message() == t("media.url_unreachable", url=url)


@pytest.mark.parametrize("scheme", ["rtsp", "rtmp", "mms"])
def test_protocols_the_guard_cannot_see_are_refused(
    media: Path, origin: tuple[int, list[str]], listener: tuple[int, list[socket.socket]], tmp_path: Path, scheme: str
) -> None:
    """Is a page's media link in a protocol other than HTTP(S)/HLS (which a helper program would open itself,
    around the guard) refused as not media — even with private networks allowed — and never connected?"""
    port, _hits = origin
    target, accepted = listener
    (media / f"{scheme}.html").write_text(
        f'<html><body><video controls><source src="{scheme}://127.0.0.1:{target}/bai-giang.mp4" type="video/mp4">'
        "</video></body></html>"
    )
    url = f"http://127.0.0.1:{port}/{scheme}.html"
    with pytest.raises(MediaError) as error:
        fetch_url(url, tmp_path, LIMITS, egress=EgressPolicy(allow_private=True))
    assert error.value.message() == t("media.url_not_media", url=url) and accepted == []
