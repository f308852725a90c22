"""The shipped nginx configuration (``deploy/nginx/diemcau.conf``) and the one way to fill in its placeholders.

``render(template, front)`` is pure (text in, text out): ``diemcau deploy nginx-config`` prints its result for
an operator, and ``tests/test_nginx_front.py`` runs that same result against a real nginx. The rules:

* a line holding ``{{LISTEN}}`` is written once per listen value, a line holding ``{{API}}`` once per API
  replica (``host:port``), in the order given;
* a line holding ``{{RESOLVER}}`` is written once with the DNS servers given (space-separated), or not at all when
  none is; ``{{RESOLVE}}`` is `` resolve`` with them (each API name is looked up again while nginx runs), else
  nothing;
* ``{{MEDIA_ROOT}}``, ``{{PREFIX}}`` and ``{{HUB_PROXY}}`` are replaced where they stand;
* comment lines (``#``) are left as they are; a placeholder left anywhere else is an error.

Every value is checked before it reaches the file: nothing an operator types can end a directive (``;``), open a
block or a variable, or smuggle in a second directive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The shipped file, in this checkout (the package is installed in editable mode; an image copies deploy/ along).
TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "diemcau.conf"
DEFAULT_PREFIX = "/services/diemcau"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
_HOST_PORT = re.compile(rf"^{_HOST}:(\d{{1,5}})$")
_RESOLVER = re.compile(rf"^{_HOST}(?::(\d{{1,5}}))?$")
_LISTEN_WORD = re.compile(r"^[A-Za-z0-9_.:\[\]=-]+$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./-]*$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9_-]+)+$")
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")


class NginxConfigError(ValueError):
    """A value that cannot go into the nginx configuration; the message says which and why."""


@dataclass(frozen=True)
class NginxFront:
    """What one nginx in front of Điểm Cầu needs to know."""

    listen: tuple[str, ...]  # nginx `listen` values: "443 ssl", "10.0.0.5:8080"
    api: tuple[str, ...]  # the API replicas, host:port each
    media_root: str  # the media folder (the data directory's media/, or its shared mount)
    hub_proxy: str  # host:port of the hub's proxy, where everything else goes
    prefix: str = DEFAULT_PREFIX  # the API service's prefix under the hub
    resolver: tuple[str, ...] = ()  # DNS servers, to look the API names up again while nginx runs (Kubernetes)


def host_port(value: str, what: str) -> str:
    """``value`` if it is ``host:port`` (a name, an IPv4 address or a bracketed IPv6 one); else the error."""
    match = _HOST_PORT.fullmatch(value)
    if match is None or not 1 <= int(match.group(1)) <= 65535:
        raise NginxConfigError(f"{what} {value!r}: expected host:port, e.g. 10.0.0.11:8090")
    return value


def resolver_address(value: str) -> str:
    """``value`` if it is a DNS server's address, a name or IP address with an optional port."""
    match = _RESOLVER.fullmatch(value)
    if match is None or (match.group(1) is not None and not 1 <= int(match.group(1)) <= 65535):
        raise NginxConfigError(f"resolver {value!r}: expected an address, e.g. kube-dns.kube-system.svc.cluster.local")
    return value


def listen_value(value: str) -> str:
    """``value`` if it is a plain nginx ``listen`` value (address or port, then parameters such as ``ssl``)."""
    words = value.split(" ")
    if not value or not all(_LISTEN_WORD.fullmatch(word) for word in words):
        raise NginxConfigError(f"listen {value!r}: expected e.g. 443 ssl, 8080 or 10.0.0.5:8080")
    return value


def media_root(value: str) -> str:
    """``value`` if it is an absolute folder made of plain characters (no spaces, quotes, ``..`` or ``$``)."""
    if not _SAFE_PATH.fullmatch(value) or ".." in value.split("/"):
        raise NginxConfigError(f"media root {value!r}: expected an absolute path of letters, digits and _ . / -")
    return value.rstrip("/") or "/"


def check(front: NginxFront) -> NginxFront:
    """``front`` with every value checked (``NginxConfigError`` on the first bad one)."""
    if not front.listen:
        raise NginxConfigError("at least one listen value is needed")
    if not front.api:
        raise NginxConfigError("at least one API replica (host:port) is needed")
    if not _PREFIX.fullmatch(front.prefix):
        raise NginxConfigError(f"prefix {front.prefix!r}: expected e.g. {DEFAULT_PREFIX}")
    return NginxFront(
        listen=tuple(listen_value(value) for value in front.listen),
        api=tuple(host_port(value, "API replica") for value in front.api),
        media_root=media_root(front.media_root),
        hub_proxy=host_port(front.hub_proxy, "hub proxy"),
        prefix=front.prefix,
        resolver=tuple(resolver_address(value) for value in front.resolver),
    )


def render(template: str, front: NginxFront) -> str:
    """The nginx configuration for ``front`` from the shipped ``template`` (the rules in the module docstring)."""
    front = check(front)
    single = {
        "{{MEDIA_ROOT}}": front.media_root,
        "{{PREFIX}}": front.prefix,
        "{{HUB_PROXY}}": front.hub_proxy,
        "{{RESOLVE}}": " resolve" if front.resolver else "",
    }
    lines: list[str] = []
    for line in template.splitlines(keepends=True):
        if line.lstrip().startswith("#"):
            lines.append(line)
            continue
        for name, value in single.items():
            line = line.replace(name, value)
        if "{{LISTEN}}" in line:
            lines.extend(line.replace("{{LISTEN}}", value) for value in front.listen)
        elif "{{API}}" in line:
            lines.extend(line.replace("{{API}}", value) for value in front.api)
        elif "{{RESOLVER}}" in line:
            lines.extend([line.replace("{{RESOLVER}}", " ".join(front.resolver))] if front.resolver else [])
        else:
            lines.append(line)
    text = "".join(lines)
    left = sorted(
        {match for line in lines if not line.lstrip().startswith("#") for match in _PLACEHOLDER.findall(line)}
    )
    if left:
        raise NginxConfigError(f"the template has placeholders nothing fills: {', '.join(left)}")
    return text
