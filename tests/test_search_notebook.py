"""``notebooks/search.ipynb`` (staff, Voila): executed headless against the real API on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import uvicorn

from diemcau.apps.api.app import create_app
from diemcau.core.transcript import Segment
from diemcau.search.index import LectureMeta
from diemcau.search.indexer import open_index
from tests.apiclient import PREFIX, token_of
from tests.fakes import StaticTokenIdentity
from tests.notebook_client import SlicedPollNotebookClient
from tests.seed import TODAY, seed_small_province

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "search.ipynb"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def api_url(settings, sqlite_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The API service on a random loopback port, with a seeded province and one indexed lecture."""
    seeded = seed_small_province(sqlite_factory)
    index = open_index(settings)
    text = "Đảng viên <b>phải</b> gương mẫu"
    index.index_lecture(LectureMeta("lec1", "Bài <i>một</i>", "nq-tinh"), [Segment(0, 61, 70, text)])
    index.close()
    identity = StaticTokenIdentity({token_of(role): name for role, name in seeded["users"].items()})
    app = create_app(settings, identity, session_factory=sqlite_factory, today=lambda: TODAY)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{PREFIX}"
    server.should_exit = True
    thread.join(timeout=10)


def execute(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    SlicedPollNotebookClient(notebook, timeout=60, kernel_name="python3", store_widget_state=True).execute()
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))


def widget_html(notebook: nbformat.NotebookNode) -> str:
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return "".join(str(w["state"].get("value", "")) for w in states.values() if w["model_name"] == "HTMLModel")


def test_notebook_searches_with_the_users_token(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the notebook run headless, call the API with the hub token, and show escaped, linked hits?"""
    notebook = execute(
        {"DIEMCAU_API_URL": api_url, "JUPYTERHUB_API_TOKEN": token_of("trainer"), "DIEMCAU_SEARCH_QUERY": "dang vien"},
        monkeypatch,
    )
    assert "1 kết quả cho «dang vien»" in printed(notebook)
    table = widget_html(notebook)
    assert "<mark>Đảng</mark> <mark>viên</mark> &lt;b&gt;phải&lt;/b&gt;" in table
    assert "Bài &lt;i&gt;một&lt;/i&gt;" in table
    assert f"href='{PREFIX}/lectures/lec1?t=61'" in table and ">1:01 – 1:10</a>" in table


def test_notebook_explains_a_refused_token(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a token the API refuses, does the page say (in Vietnamese) to log in again instead of failing?"""
    notebook = execute(
        {"DIEMCAU_API_URL": api_url, "JUPYTERHUB_API_TOKEN": "wrong", "DIEMCAU_SEARCH_QUERY": "đảng"}, monkeypatch
    )
    assert "0 kết quả" in printed(notebook)
    assert "Hãy đăng nhập lại" in widget_html(notebook)


def test_notebook_opens_without_a_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the page itself execute with no query and no reachable API (what Voila renders first)?"""
    notebook = execute({"DIEMCAU_API_URL": "http://127.0.0.1:9/none", "DIEMCAU_SEARCH_QUERY": ""}, monkeypatch)
    assert all(o.get("output_type") != "error" for cell in notebook.cells for o in cell.get("outputs", []))
