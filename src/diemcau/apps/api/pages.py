"""Server-rendered HTML for members: the portal and short messages, in Vietnamese from the catalogue.

Pages are built for phones on weak rural links: no JavaScript, no web fonts, no CDN, a few kilobytes of
HTML with inline CSS (Voila's first load is ~5 MB; see DESIGN.md). Jinja2 autoescaping is on for every
template, so names from the roster are always text, never markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from diemcau.apps.api.links import Link
from diemcau.apps.api.schemas import CourseOut
from diemcau.i18n import t

TEMPLATES_DIR = Path(__file__).with_name("templates")


def format_date(value: dt.date | None) -> str:
    """A date as Vietnamese readers write it: ``dd/mm/yyyy``."""
    return "" if value is None else value.strftime("%d/%m/%Y")


def days_left_text(days: int | None) -> str:
    """Days left, due today, days overdue, or no deadline, as a sentence from the catalogue."""
    if days is None:
        return t("portal.no_deadline")
    if days == 0:
        return t("portal.due_today")
    return t("portal.days_left", days=days) if days > 0 else t("portal.days_overdue", days=-days)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = t
    env.filters["vn_date"] = format_date
    env.filters["days_left"] = days_left_text
    return env


_ENV = _environment()


@dataclass(frozen=True)
class PortalLecture:
    """A ready lecture as the portal lists it: a link to the player and how much the member followed."""

    id: str
    title: str
    duration_seconds: float | None
    coverage_percent: float | None  # None: not watched yet


@dataclass(frozen=True)
class PortalPage:
    """What the portal shows one member."""

    full_name: str
    unit_name: str
    courses: tuple[CourseOut, ...]
    links: tuple[Link, ...]
    lectures: Mapping[str, tuple[PortalLecture, ...]] = field(default_factory=dict)  # by course id


def render_portal(page: PortalPage) -> str:
    """The member portal page."""
    return _ENV.get_template("portal.html").render(page=page)


def render_page(template: str, **values: object) -> str:
    """Any page of ``templates/`` (the staff home's, ``staff.html``) with the portal's filters."""
    return _ENV.get_template(template).render(**values)


def render_message(message: str, logout_href: str) -> str:
    """A page that only says ``message`` (e.g. why the service refused), with a way to log out."""
    return _ENV.get_template("message.html").render(message=message, logout_href=logout_href)
