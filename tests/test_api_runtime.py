"""The API's per-process state lives in one object its app owns (``apps/api/plumbing/runtime.ApiRuntime``): built by
``create_app``, reached by the routes through the context, emptied at once by ``clear``, opened and closed by the
app's lifespan."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jinja2.nodes
from sqlalchemy.orm import Session, sessionmaker

import diemcau.apps.api
from diemcau.adapters.db import quizzes as store
from diemcau.adapters.db.accounts import find_member
from diemcau.adapters.db.engine import transaction
from diemcau.adapters.db.models import LectureRow
from diemcau.apps.api.app import create_app
from diemcau.adapters.quiz_files import parse_quiz_text
from diemcau.apps.api.pages.environment import TEMPLATES_DIR, page_environment
from diemcau.core.quiz_form import public_form
from diemcau.settings import Settings, load_settings
from tests.apiclient import PREFIX, auth, runtime_of, seeded_client
from tests.fakes import StaticTokenIdentity
from tests.media_fixtures import seed_lecture_media
from tests.quiz_support import COURSE, quiz_yaml
from tests.seed import seed_small_province
from tests.transcript_fixtures import LECTURE_ID

PROGRESS = f"{PREFIX}/api/lectures/{LECTURE_ID}/progress"
HEARTBEAT = {"events": [{"event_id": "e1", "kind": "heartbeat", "start": 0, "end": 15, "seq": 1}]}


def _deactivate(factory: sessionmaker[Session], card: str) -> None:
    with transaction(factory) as session:
        member = find_member(session, card)
        assert member is not None
        member.active = False


def _withdraw(factory: sessionmaker[Session], lecture_id: str) -> None:
    with transaction(factory) as session:
        row = session.get(LectureRow, lecture_id)
        assert row is not None
        row.status = "failed"


def test_does_clear_empty_every_cache_so_a_change_counts_at_once(
    tmp_path: Path, sqlite_factory: sessionmaker[Session]
) -> None:
    """With the default lifetimes (60 s), a deactivated member and a withdrawn lecture are still served from the
    warm caches; after ``runtime.clear()`` every cache is empty and both are refused on the next request."""
    settings = load_settings({"DIEMCAU_HOME": str(tmp_path / "var")})
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture_media(settings, sqlite_factory)
    caches, facts = runtime_of(client).caches, runtime_of(client).visibility.cache
    assert client.get(f"{PREFIX}/api/lectures/{LECTURE_ID}", headers=auth("member")).json()["media"] is not None
    assert client.get(PROGRESS, headers=auth("member")).status_code == 200
    assert client.get(PROGRESS, headers=auth("secretary")).status_code == 200
    assert len(caches.callers) == 2 and len(facts) >= 1 and len(caches.manifests) == 1
    _deactivate(sqlite_factory, seeded["users"]["member"])
    _withdraw(sqlite_factory, LECTURE_ID)
    assert client.get(PROGRESS, headers=auth("member")).status_code == 200
    assert client.get(PROGRESS, headers=auth("secretary")).status_code == 200
    runtime_of(client).clear()
    assert (len(caches.callers), len(facts), len(caches.manifests)) == (0, 0, 0)
    assert client.get(PROGRESS, headers=auth("member")).status_code == 403
    assert client.get(PROGRESS, headers=auth("secretary")).status_code == 404


def test_does_the_lifespan_open_the_index_and_close_it_and_the_writer(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    """Is the search index open while the app serves, and at shutdown closed and the writer's thread stopped
    (after answering what it held)? Used again afterwards, both open again."""
    client, seeded = seeded_client(settings, sqlite_factory)
    seed_lecture_media(settings, sqlite_factory)
    runtime = runtime_of(client)
    with client:
        opened = runtime.search._index
        assert opened is not None and runtime.search.index() is opened  # opened at start-up, once
        assert client.post(PROGRESS, json=HEARTBEAT, headers=auth("member")).status_code == 200
        writing = runtime.writer._thread
        assert writing is not None and writing.is_alive()
    assert runtime.search._index is None
    assert runtime.writer._thread is None and not writing.is_alive()
    assert client.get(f"{PREFIX}/api/search?q=nghị", headers=auth("member")).status_code == 200
    assert runtime.search._index is not None and runtime.search._index is not opened
    assert client.post(PROGRESS, json=HEARTBEAT, headers=auth("member")).json()["watched_seconds"] == 15.0


def test_do_two_apps_share_nothing(settings: Settings, sqlite_factory: sessionmaker[Session]) -> None:
    """Two apps on one database in one process: each has its own caches, loader, writer, index and templates."""
    first, second = (create_app(settings, StaticTokenIdentity({}), session_factory=sqlite_factory) for _ in "ab")
    a, b = first.state.context.runtime, second.state.context.runtime
    parts = ("caches", "callers", "writer", "search", "pages")
    assert all(getattr(a, part) is not getattr(b, part) for part in parts)


def test_is_every_page_rendered_by_the_one_environment_with_every_filter_it_uses() -> None:
    """The API builds one Jinja environment (``pages.environment.page_environment``, the runtime's): no other module
    of the API makes one, and every filter any template uses is one of its filters."""
    api = Path(diemcau.apps.api.__file__).parent
    makers = sorted(path.name for path in api.rglob("*.py") if "Environment(" in path.read_text("utf-8"))
    assert makers == ["environment.py"]
    env = page_environment()
    used = {
        node.name
        for template in TEMPLATES_DIR.glob("*.html")
        for node in env.parse(template.read_text("utf-8")).find_all(jinja2.nodes.Filter)
    }
    assert {"vn_date", "vn_datetime", "num", "clock"} <= used
    assert used <= set(env.filters)


def test_does_the_app_keep_a_released_form_until_its_release_changes(sqlite_factory: sessionmaker[Session]) -> None:
    """``ReleasedForms``: is a kept form served from memory while fresh, re-checked after ``recheck_seconds`` (a
    quiz released again is read anew, an unreleased one is not kept), and dropped at once by ``forget``?"""
    seed_small_province(sqlite_factory)
    now = [0.0]
    forms = store.ReleasedForms(sqlite_factory, recheck_seconds=2.0, clock=lambda: now[0])
    assert forms.get(COURSE, "kt") is None  # not released: nothing kept, looked up again next time
    spec = parse_quiz_text(quiz_yaml(attempts=1), "kt.yaml", COURSE, "kt")
    store.save_release(sqlite_factory, public_form(spec))
    first = forms.get(COURSE, "kt")
    assert first is not None and first.title == spec.title
    store.save_release(sqlite_factory, dataclasses.replace(public_form(spec), title="Bài kiểm tra mới"))
    assert forms.get(COURSE, "kt") is first  # fresh: from memory
    now[0] = 2.5
    assert forms.get(COURSE, "kt").title == "Bài kiểm tra mới"  # re-checked: released again, read anew
    store.save_release(sqlite_factory, dataclasses.replace(public_form(spec), title="Lần thứ ba"))
    forms.forget(COURSE, "kt")
    assert forms.get(COURSE, "kt").title == "Lần thứ ba"  # forgotten: read at once
