"""The API's one way to ask "may this viewer see that?": the rule of ``core.visibility`` on the facts of
``adapters.db.visibility``, kept in one cache per app.

``create_app`` builds one ``Visibility`` and hangs it on the ``ApiContext`` (``ctx.visibility``); every route,
page, media request and search asks it, so a withdrawn lecture or a changed audience takes effect everywhere
after the same lifetime, ``perf.lecture_seconds`` (each entry 80–100 % of it, ``caches.JITTER``; ``0``: off,
every question reads the database). What is kept: each course's audience, for the lookups by id, and each
*published* lecture's facts. Lists of courses (the portal, the staff home, search's scope) are read each time,
and a lecture not published yet, an unknown lecture or course are read again each time (a refusal is never
remembered), so a lecture that turns ready or a course just created is seen at once. ``forget`` is the
one invalidation (this process's own writes: a course created).

One name per question: ``course`` (one course), ``courses`` (all the viewer's), ``lecture`` (one lecture),
``search_scope`` (what search may return); ``known_courses``, ``course_facts`` and ``lecture_facts`` are the
facts without a viewer.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import visibility as facts
from diemcau.apps.api.plumbing.caches import JITTER, TtlCache
from diemcau.core.roles import Viewer
from diemcau.core.visibility import (
    CourseFacts,
    LectureFacts,
    is_published,
    may_see_course,
    may_watch,
    search_scope,
    visible_course_ids,
)
from diemcau.i18n import t
from diemcau.settings import PerfSettings


class Visibility:
    """Visibility answers for one API app, over one cache whose lifetime is ``perf.lecture_seconds``."""

    def __init__(self, factory: sessionmaker[Session], perf: PerfSettings) -> None:
        self.factory = factory
        self.cache: TtlCache[object] = TtlCache(perf.lecture_seconds, perf.max_entries, jitter=JITTER)

    def forget(self) -> None:
        """Drop every kept fact (the one invalidation): the next question reads the database."""
        self.cache.clear()

    # --- facts, no viewer -------------------------------------------------------------------------------------

    def known_courses(self) -> Mapping[str, CourseFacts]:
        """Every course's facts, by id, read now: a list is never kept, so a course created (by the CLI, another
        replica, an operator) shows in every list at once; each course read is kept for the lookups by id."""
        found = facts.load_courses(self.factory)
        for course_id, course in found.items():
            self.cache.put(("course", course_id), course)
        return found

    def course_facts(self, course_id: str) -> CourseFacts | None:
        """One course's facts, or ``None`` (kept for the lifetime; an unknown course is read again each time)."""
        key = ("course", course_id)
        found = self.cache.get(key)
        if found is None:
            found = facts.load_courses(self.factory, [course_id]).get(course_id)
            if found is not None:
                self.cache.put(key, found)
        return found  # type: ignore[return-value]

    def lecture_facts(self, lecture_id: str, *, load: bool = True) -> LectureFacts | None:
        """One lecture's facts, or ``None``; kept only once published (see the module's docstring). With
        ``load=False``, only what is kept (no database read: safe on the event loop)."""
        key = ("lecture", lecture_id)
        found = self.cache.get(key)
        if found is None and load:
            found = facts.load_lecture(self.factory, lecture_id)
            if found is not None and is_published(found.status):
                self.cache.put(key, found)
        return found  # type: ignore[return-value]

    # --- the questions --------------------------------------------------------------------------------------

    def course(self, viewer: Viewer, course_id: str) -> CourseFacts | None:
        """The course if ``viewer`` may see it, else ``None`` (as for a course that does not exist)."""
        found = self.course_facts(course_id)
        return found if found is not None and may_see_course(viewer, found) else None

    def courses(self, viewer: Viewer) -> frozenset[str]:
        """The ids of every course ``viewer`` may see."""
        return visible_course_ids(viewer, self.known_courses())

    def search_scope(self, viewer: Viewer) -> frozenset[str] | None:
        """The courses whose lectures ``viewer`` may search (``None``: all, for content managers)."""
        return search_scope(viewer, self.known_courses())

    def lecture(self, viewer: Viewer, lecture_id: str) -> LectureFacts | None:
        """The lecture if ``viewer`` may watch it, else ``None`` (as for a lecture that does not exist)."""
        found = self.lecture_facts(lecture_id)
        return found if found is not None and may_watch(viewer, found.status, found.audience_paths) else None

    # --- the same, as the API's refusals ----------------------------------------------------------------------

    def require_course(self, viewer: Viewer, course_id: str) -> CourseFacts:
        """``course``, or ``HTTPException(404)``."""
        found = self.course(viewer, course_id)
        if found is None:
            raise HTTPException(404, t("api.course_not_found"))
        return found

    def require_lecture(self, viewer: Viewer, lecture_id: str) -> LectureFacts:
        """``lecture``, or ``HTTPException(404)``."""
        found = self.lecture(viewer, lecture_id)
        if found is None:
            raise HTTPException(404, t("media.lecture_not_found"))
        return found
