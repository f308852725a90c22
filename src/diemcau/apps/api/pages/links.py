"""The hub links each viewer may use: the portal for everyone, the staff home and their dashboards for staff,
logout."""

from __future__ import annotations

from dataclasses import dataclass

from diemcau.core.roles import Role, Viewer, can_manage_content

# Where a staff server renders the notebooks/ dashboards (Voila, as an extension of the server).
DASHBOARDS = "voila/render"


@dataclass(frozen=True)
class Link:
    """A link by purpose (``portal``, ``server``, ``logout``); labels live in the message catalogue."""

    key: str
    href: str


def _hub_url(hub_base_url: str, path: str) -> str:
    return "/" + "/".join(part.strip("/") for part in (hub_base_url, path) if part.strip("/")) + "/"


def _dashboard(hub_base_url: str, notebook: str) -> str:
    """A dashboard in the caller's own server, started if needed."""
    return _hub_url(hub_base_url, f"hub/user-redirect/{DASHBOARDS}/{notebook}").rstrip("/")


def logout_href(prefix: str) -> str:
    """This service's logout (``app``: its cookie deleted), which goes on to the hub's (``hub_logout_href``)."""
    return prefix.rstrip("/") + "/logout"


def hub_logout_href(hub_base_url: str) -> str:
    """The hub's logout page."""
    return _hub_url(hub_base_url, "hub/logout").rstrip("/")


def links_for(viewer: Viewer, hub_base_url: str, prefix: str) -> list[Link]:
    """Links for ``viewer``: staff get the dashboards of their roles, trainers the studio, admins JupyterLab.

    Members are not offered a server: they study in the light portal, and a login needs no server. A staff link
    goes through ``/hub/user-redirect/``, which starts the staff member's own server if needed (the hub's
    Vietnamese "starting" page, ``hub_config/templates``) and lands on the Voila dashboard itself, never on
    JupyterLab; the studio is reached the same way (docs/studio.md). Only admins get the server's JupyterLab.
    """
    links = [Link("portal", prefix.rstrip("/") + "/")]
    if viewer.oversight_paths():  # secretaries, committees, admins: their staff home (docs/staff.md)
        links.append(Link("staff", prefix.rstrip("/") + "/staff"))
    if viewer.has(Role.SECRETARY):
        links.append(Link("cell", _dashboard(hub_base_url, "cell.ipynb")))
    if viewer.has(Role.COMMITTEE):
        links.append(Link("committee", _dashboard(hub_base_url, "committee.ipynb")))
    if can_manage_content(viewer):
        links.append(Link("studio", _hub_url(hub_base_url, "hub/user-redirect/studio")))
        links.append(Link("lectures", _dashboard(hub_base_url, "lecture.ipynb")))
    if viewer.is_admin:
        links.append(Link("server", _hub_url(hub_base_url, "hub/spawn").rstrip("/")))
    links.append(Link("logout", logout_href(prefix)))
    return links
