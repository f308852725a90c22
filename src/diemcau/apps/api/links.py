"""The hub links each viewer may use: the portal for everyone, their Jupyter server for staff, logout."""

from __future__ import annotations

from dataclasses import dataclass

from diemcau.core.roles import Viewer, can_manage_content


@dataclass(frozen=True)
class Link:
    """A link by purpose (``portal``, ``server``, ``logout``); labels live in the message catalogue."""

    key: str
    href: str


def _hub_url(hub_base_url: str, path: str) -> str:
    return "/" + "/".join(part.strip("/") for part in (hub_base_url, path) if part.strip("/")) + "/"


def logout_href(hub_base_url: str) -> str:
    """The hub's logout page."""
    return _hub_url(hub_base_url, "hub/logout").rstrip("/")


def links_for(viewer: Viewer, hub_base_url: str, prefix: str) -> list[Link]:
    """Links for ``viewer``: staff also get their Jupyter server (Voila dashboards, nbgrader), trainers the studio.

    Members are not offered a server: they study in the light portal, and a login needs no server.
    ``/hub/spawn`` starts the server if needed and lands on ``/user/<name>/``; ``/hub/user-redirect/studio/``
    starts it too and lands on the studio that jupyter-server-proxy runs there (docs/studio.md).
    """
    links = [Link("portal", prefix.rstrip("/") + "/")]
    if can_manage_content(viewer):
        links.append(Link("studio", _hub_url(hub_base_url, "hub/user-redirect/studio")))
    if viewer.is_staff:
        links.append(Link("server", _hub_url(hub_base_url, "hub/spawn").rstrip("/")))
    links.append(Link("logout", logout_href(hub_base_url)))
    return links
