"""Security headers through the real app: every page the service renders refuses to be framed, declares its types
and keeps its URLs to itself, runs no inline script its policy does not name, and a material opens sandboxed."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session, sessionmaker

from diemcau.apps.api.pages import environment
from diemcau.apps.api.plumbing.headers import script_hash
from diemcau.quizzes.publish import release
from diemcau.settings import load_settings
from tests.apiclient import PREFIX, auth, seeded_client
from tests.data_dirs import data_dir_environ
from tests.material_fixtures import make_pdf
from tests.media_fixtures import seed_lecture_media
from tests.quiz_support import COURSE, quiz_yaml, sharing_database, write_spec
from tests.transcript_fixtures import LECTURE_ID, seed_lecture_transcript

TEMPLATES = Path(environment.TEMPLATES_DIR)
INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, module_session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """The app on the seeded province with a ready lecture and a released quiz of cell A1's course, once per module
    and backend: the tests only read, but for materials each of its own name."""
    factory = module_session_factory
    shared = sharing_database(load_settings(data_dir_environ(tmp_path_factory.mktemp("headers"))), factory)
    test_client, _ = seeded_client(shared, factory)
    seed_lecture_transcript(shared.transcripts_dir, factory)
    seed_lecture_media(shared, factory)
    write_spec(shared, quiz_yaml(), "kt")
    release(shared, factory, COURSE, "kt")
    return test_client


PAGES = {
    "portal": "/",
    "player": f"/lectures/{LECTURE_ID}",
    "search": "/search?q=nghi+quyet",
    "quiz list": f"/quizzes/{COURSE}",
    "quiz": f"/quizzes/{COURSE}/kt",
}


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as ``{directive: [sources]}``."""
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_refuses_framing_sniffing_and_leaking_its_url(client, page: str) -> None:  # type: ignore[no-untyped-def]
    """Does each member page carry a CSP with frame-ancestors 'none', nosniff and a same-origin referrer policy?"""
    response = client.get(PREFIX + PAGES[page], headers=auth("member", Accept="text/html"))
    assert response.status_code == 200, response.text
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("page", list(PAGES))
def test_no_inline_script_runs_unless_the_policy_names_it(client, page: str) -> None:  # type: ignore[no-untyped-def]
    """Is every inline script a page carries allowed by its hash, so the browser runs it and nothing injected?"""
    response = client.get(PREFIX + PAGES[page], headers=auth("member", Accept="text/html"))
    allowed = directives(response.headers["content-security-policy"])["script-src"]
    inline = [
        s["body"]
        for s in INLINE_SCRIPT.finditer(response.text)
        if "src=" not in s["attrs"] and 'type="application/json"' not in s["attrs"]
    ]
    assert len(inline) == (1 if page == "player" else 0)  # the player inlines player.js; the rest link theirs
    for body in inline:
        assert script_hash(body) in allowed, f"inline script on the {page} page would be blocked"


def test_templates_carry_no_inline_script_but_the_players() -> None:
    """Does no template (the grading view's included, seen by secretaries only) hold inline JavaScript, apart
    from the player's, whose hash the policy carries?"""
    for template in TEMPLATES.glob("*.html"):
        for script in INLINE_SCRIPT.finditer(template.read_text(encoding="utf-8")):
            if "src=" in script["attrs"] or 'type="application/json"' in script["attrs"]:
                continue
            assert (template.name, script["body"]) == ("player.html", "{{ script }}")


@pytest.mark.parametrize("path", ["/api/me", "/health", "/api/lectures/nope/materials"])
def test_api_answers_and_errors_carry_the_headers_too(client, path: str) -> None:  # type: ignore[no-untyped-def]
    """Do JSON answers, the public health probe and a 404 carry the same headers as the pages?"""
    response = client.get(PREFIX + path, headers=auth("member"))
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("inline", [False, True])
def test_a_material_opens_sandboxed(client, tmp_path, inline: bool) -> None:  # type: ignore[no-untyped-def]
    """Is a PDF material, downloaded or opened in the browser, a sandboxed document of its own origin?"""
    source = make_pdf(tmp_path / ("Nghị quyết (xem).pdf" if inline else "Nghị quyết.pdf"))  # one lecture: two names
    url = f"{PREFIX}/api/lectures/{LECTURE_ID}/materials"
    files = {"file": (source.name, source.read_bytes(), "application/pdf")}
    assert client.post(url, files=files, headers=auth("trainer")).status_code == 201
    params = {"inline": "true"} if inline else {}
    response = client.get(f"{url}/{quote(source.name)}", params=params, headers=auth("member"))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("inline;" if inline else "attachment;")
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
