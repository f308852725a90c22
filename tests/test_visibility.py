"""One visibility module: one rule (``core.visibility``), one query, one cache per app, asked by every route.

The authorization matrix (``tests/test_api_authz.py``) says what each role gets; these tests say that the answer
comes from one place: every route that takes a lecture or a course asks ``ctx.visibility``, a lecture not ready
or a course whose audience was withdrawn is refused on every route at once when ``perf.lecture_seconds`` is 0,
with a lifetime every route keeps the same answer until the one cache forgets it, and the search indexer follows
the same notion of "published".
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import CourseAudienceRow, LectureRow, OrgUnitRow
from diemcau.apps.api.app import create_app
from diemcau.apps.api.plumbing.visibility import Visibility
from diemcau.core.lecture import LectureStatus
from diemcau.core.roles import Grant, Role, Viewer
from diemcau.core.visibility import CourseFacts, is_published, may_watch, search_scope, visible_course_ids
from diemcau.search import indexer
from diemcau.settings import Settings, load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.data_dirs import data_dir_environ
from tests.fakes import StaticTokenIdentity
from tests.test_api_authz import EXPECTED, TARGET, request_body, seed_authz_world
from tests.test_search_indexer import add_lecture
from tests.transcript_fixtures import LECTURE_ID

CELL_A1, CELL_A2 = "/tinh/xa-a/cb-a1/", "/tinh/xa-a/cb-a2/"
member = Viewer("m", CELL_A1)
trainer = Viewer("t", "/tinh/xa-b/cb-b1/", (Grant(Role.TRAINER),))
COURSES = {"a1": CourseFacts("a1", "Chuyên đề A1", (CELL_A1,)), "a2": CourseFacts("a2", "Chuyên đề A2", (CELL_A2,))}

# Routes that take neither a lecture nor a course but list or search what the caller may see (query added).
LISTING = {
    ("GET", "/api/lectures"): "",
    ("GET", "/api/courses"): "",
    ("GET", "/api/search"): "?q=kinh",
    ("GET", "/search"): "?q=kinh",
    ("GET", "/courses"): "",
    ("GET", "/"): "",
    ("GET", "/staff"): "",
}
# The answer a refused member gets: 404 as for a missing record, 403 where nginx needs it (auth_request).
REFUSED = {("GET", "/api/media-auth/{lecture_id}/{path}"): 403}


def takes_lecture_or_course(path: str) -> bool:
    return bool(re.search(r"\{(lecture_id|course_id)\}", path))


# --- the pure rule ----------------------------------------------------------------------------------------------


def test_only_ready_is_published() -> None:
    """Is ``ready`` the one published status, and a status ``LectureStatus`` does not have (``published``) not?"""
    assert {s for s in LectureStatus if is_published(s)} == {LectureStatus.READY}
    assert not is_published("published") and not is_published("")


def test_members_watch_ready_lectures_of_their_courses_content_managers_any() -> None:
    """Does a member watch a ready lecture of their course only, and a trainer one still processing too?"""
    assert may_watch(member, "ready", (CELL_A1,))
    assert not may_watch(member, "processing", (CELL_A1,)) and not may_watch(member, "ready", (CELL_A2,))
    assert may_watch(trainer, "processing", (CELL_A2,)) and may_watch(trainer, "failed", ())


def test_search_is_scoped_to_visible_courses_unless_managing_content() -> None:
    """Does search see a member's courses only, and no filter (``None``) for a trainer?"""
    assert visible_course_ids(member, COURSES) == search_scope(member, COURSES) == frozenset({"a1"})
    assert search_scope(trainer, COURSES) is None and visible_course_ids(trainer, COURSES) == {"a1", "a2"}


def test_the_indexer_counts_only_what_the_rule_calls_published(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Is a lecture whose stored status is ``published`` (a status ``LectureStatus`` lacks) kept out of search,
    while a ready one is indexed?"""
    add_lecture(sqlite_factory, "lec-ready", status="ready")
    add_lecture(sqlite_factory, "lec-odd", status="published")
    published = indexer.published_in_database(sqlite_factory)
    assert published("lec-ready") and not published("lec-odd") and not published("no-such-lecture")


# --- one cache per app --------------------------------------------------------------------------------------------


def _settings(tmp_path: Path, lecture_seconds: str) -> Settings:
    return load_settings(data_dir_environ(tmp_path, DIEMCAU_PERF__LECTURE_SECONDS=lecture_seconds))


def test_each_app_owns_one_visibility_cache_of_lecture_seconds(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_factory
) -> None:
    """Does every app get its own ``Visibility`` on its context, living ``perf.lecture_seconds`` (0: off)?"""
    first = create_app(_settings(tmp_path, "45"), StaticTokenIdentity({}), session_factory=sqlite_factory)
    second = create_app(_settings(tmp_path, "0"), StaticTokenIdentity({}), session_factory=sqlite_factory)
    one, other = first.state.context.visibility, second.state.context.visibility
    assert isinstance(one, Visibility) and one is not other
    assert (one.cache.seconds, one.cache.enabled, other.cache.enabled) == (45.0, True, False)


# --- every route asks it ------------------------------------------------------------------------------------------


class CountingVisibility(Visibility):
    """The app's ``Visibility``, noting each question it is asked (the module's entry points)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, str]] = []

    def lecture(self, viewer, lecture_id):  # type: ignore[no-untyped-def]
        self.asked.append(("lecture", lecture_id))
        return super().lecture(viewer, lecture_id)

    def course(self, viewer, course_id):  # type: ignore[no-untyped-def]
        self.asked.append(("course", course_id))
        return super().course(viewer, course_id)

    def courses(self, viewer):  # type: ignore[no-untyped-def]
        self.asked.append(("courses", ""))
        return super().courses(viewer)

    def search_scope(self, viewer):  # type: ignore[no-untyped-def]
        self.asked.append(("search_scope", ""))
        return super().search_scope(viewer)


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path below the prefix) of every route the app serves, ``{path:path}`` written ``{path}``."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path.removeprefix(PREFIX)) or "/"
        found |= {(method, path) for method in getattr(route, "methods", None) or ()}
    return found


def test_every_lecture_and_course_route_asks_the_visibility_module(  # type: ignore[no-untyped-def]
    settings: Settings, sqlite_factory
) -> None:
    """Does each route that takes a lecture or course id ask ``ctx.visibility`` about that very id, and each
    list and search route ask it which courses the caller sees?"""
    client, _ = seeded_client(settings, sqlite_factory)
    seed_authz_world(settings, sqlite_factory)
    routes = _routes(client.app)
    gated = sorted(r for r in routes if takes_lecture_or_course(r[1]))
    assert len(gated) > 25 and set(LISTING) <= routes  # the walk found the included routers
    ctx = client.app.state.context
    spy = CountingVisibility(ctx.factory, settings.perf)
    client.app.state.context = dataclasses.replace(ctx, runtime=dataclasses.replace(ctx.runtime, visibility=spy))
    missed = []
    with client:
        for method, path in gated + sorted(LISTING):
            spy.asked.clear()
            url = PREFIX + path.format(**TARGET) + LISTING.get((method, path), "")
            client.request(method, url, headers=auth("admin"), json=request_body(method, path, "admin"))
            wanted = (
                {("lecture", TARGET["lecture_id"]), ("course", TARGET["course_id"])}
                if "{" in path
                else {("courses", ""), ("search_scope", "")}
            )
            if not wanted & set(spy.asked):
                missed.append(f"{method} {path}: asked {spy.asked}")
    assert not missed, "\n".join(missed)


def withdraw_audience(factory: sessionmaker[Session], course_id: str, unit_code: str) -> None:
    """The course's audience becomes ``unit_code`` alone (its members are no longer enrolled)."""
    with transaction(factory) as session:
        session.execute(delete(CourseAudienceRow).where(CourseAudienceRow.course_id == course_id))
        unit = session.scalars(select(OrgUnitRow.id).where(OrgUnitRow.code == unit_code)).one()
        session.add(CourseAudienceRow(course_id=course_id, org_unit_id=unit))


def unpublish(factory: sessionmaker[Session], lecture_id: str) -> None:
    with transaction(factory) as session:
        session.get(LectureRow, lecture_id).status = LectureStatus.PROCESSING  # type: ignore[union-attr]


def _members_routes(lectures_only: bool) -> list[tuple[str, str]]:
    """The lecture (and course) routes the matrix lets a member of the course use (a 2xx)."""
    routes = []
    for (method, path), roles in EXPECTED.items():
        status = roles["member"][0] if isinstance(roles["member"], tuple) else roles["member"]
        wanted = "{lecture_id}" in path if lectures_only else takes_lecture_or_course(path)
        if wanted and 200 <= status < 300:  # type: ignore[operator]
            routes.append((method, path))
    return sorted(routes)


def _change(factory: sessionmaker[Session], change: str) -> None:
    if change == "withdrawn audience":
        withdraw_audience(factory, TARGET["course_id"], "cb-b1")
    else:
        unpublish(factory, LECTURE_ID)


def _wrong(client: TestClient, routes: list[tuple[str, str]], attempt: str, refused: bool) -> list[str]:
    """The routes on which the member's answer is not the one expected (a 2xx, or the refusal)."""
    wrong = []
    for method, path in routes:
        body = request_body(method, path, f"member_{attempt}")
        got = client.request(method, PREFIX + path.format(**TARGET), headers=auth("member"), json=body).status_code
        if (got != REFUSED.get((method, path), 404)) if refused else not 200 <= got < 300:
            wrong.append(f"{attempt} {method} {path}: {got}")
    return wrong


@pytest.mark.parametrize("change", ["withdrawn audience", "lecture not ready"])
def test_a_change_takes_effect_on_every_route_at_once_without_the_cache(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_factory, change: str
) -> None:
    """With ``perf.lecture_seconds = 0``, is the course's own member refused on every route they used a moment
    before, once the course's audience moves to another commune's cell, or once the lecture is no longer ready?"""
    settings = _settings(tmp_path, "0")
    client, _ = seeded_client(settings, sqlite_factory)
    seed_authz_world(settings, sqlite_factory)
    routes = _members_routes(lectures_only=change == "lecture not ready")
    assert len(routes) > 10
    with client:
        wrong = _wrong(client, routes, "before", refused=False)
        _change(sqlite_factory, change)
        wrong += _wrong(client, routes, "after", refused=True)
    assert not wrong, "\n".join(wrong)


def test_every_lecture_route_keeps_the_same_answer_until_the_one_cache_forgets(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_factory
) -> None:
    """With a lifetime, does every lecture route still serve a lecture withdrawn a moment ago (they all read the
    one cache), and does every one refuse it once that cache forgets (no route keeps a copy of its own)?"""
    settings = _settings(tmp_path, "60")
    client, _ = seeded_client(settings, sqlite_factory)
    seed_authz_world(settings, sqlite_factory)
    routes = _members_routes(lectures_only=True)
    with client:
        wrong = _wrong(client, routes, "before", refused=False)
        _change(sqlite_factory, "lecture not ready")
        wrong += _wrong(client, routes, "kept", refused=False)
        client.app.state.context.visibility.forget()
        wrong += _wrong(client, routes, "forgotten", refused=True)
    assert not wrong, "\n".join(wrong)
