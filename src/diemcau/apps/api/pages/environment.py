"""Server-rendered HTML for members: the portal and short messages, in Vietnamese from the catalogue.

Pages are built for phones on weak rural links: no JavaScript, no web fonts, no CDN, a few kilobytes of
HTML with inline CSS (Voila's first load is ~5 MB; see docs/benchmarks.md). Jinja2 autoescaping is on for every
template, so names from the roster are always text, never markup.

Every page of the API (portal, player, search, quizzes, staff home, messages) is rendered by one Jinja
environment, ``page_environment()``, with every filter the templates use; ``create_app`` builds it once and its
``ApiRuntime`` holds it (``ctx.runtime.pages``), so templates are parsed once per app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from diemcau.apps.api.pages.links import Link
from diemcau.apps.api.plumbing.context import VIETNAM
from diemcau.apps.api.schemas.common import CourseOut
from diemcau.i18n import t

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


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


def vn_datetime(value: dt.datetime | None) -> str:
    """A moment as Vietnamese readers write it, in Vietnam time: ``30/06/2027 23:59``."""
    return "" if value is None else value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def number(value: float | None) -> str:
    """``7.0`` → ``7``, ``7.5`` → ``7,5`` (the Vietnamese decimal comma)."""
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").replace(".", ",")


def clock(seconds: float | None) -> str:
    """Seconds as a player shows them: ``mm:ss`` below an hour (``05:07``), ``h:mm:ss`` above."""
    total = max(0, int(seconds or 0))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def page_environment() -> Environment:
    """The Jinja environment of every page of the API: ``templates/``, autoescaped, the catalogue as ``t`` and
    the filters ``vn_date``, ``days_left``, ``vn_datetime``, ``num`` and ``clock``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = t
    env.filters["vn_date"] = format_date
    env.filters["days_left"] = days_left_text
    env.filters["vn_datetime"] = vn_datetime
    env.filters["num"] = number
    env.filters["clock"] = clock
    return env


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
    member: str = ""  # the caller's username: whose stored lectures and kept work the page's offline.js handles


def render_portal(pages: Environment, page: PortalPage) -> str:
    """The member portal page."""
    return pages.get_template("portal.html").render(page=page)


def render_page(pages: Environment, template: str, **values: object) -> str:
    """Any page of ``templates/`` (the staff home's, ``staff.html``) with the portal's filters."""
    return pages.get_template(template).render(**values)


def render_message(pages: Environment, message: str, logout_href: str, home_href: str) -> str:
    """A page that only says ``message`` (e.g. why the service refused), with the way back to the portal
    (``home_href``) and a way to log out."""
    return pages.get_template("message.html").render(message=message, logout_href=logout_href, home_href=home_href)
