"""The dashboard notebooks (``notebooks/cell|committee|lecture.ipynb``) executed headless by nbclient against the
real API on a loopback port, with each viewer's own token: do they show the right numbers, and only in scope?"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

import httpx

from diemcau.i18n import t

from diemcau.core.transcript import Segment
from diemcau.search.index import LectureMeta
from diemcau.search.indexer import open_index
from tests.apiclient import auth, token_of
from tests.transcript_fixtures import LECTURE_ID
from tests.dashboard_fixtures import RunningApi, running_api, seed_cell_course
from tests.notebook_client import SlicedPollNotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def api(settings, sqlite_factory) -> Iterator[RunningApi]:  # type: ignore[no-untyped-def]
    """The API over the seeded cell course."""
    with running_api(settings, sqlite_factory, seed_cell_course(sqlite_factory)) as running:
        yield running


def execute(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, extra: str = "") -> nbformat.NotebookNode:
    """Run a notebook as Voila would (top to bottom, fresh kernel); ``extra`` is a cell appended to act on it."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    if extra:
        notebook.cells.append(new_code_cell(extra))
    SlicedPollNotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))


def widget_values(notebook: nbformat.NotebookNode) -> str:
    """Every HTML and text widget's value (what the page shows), joined."""
    return "\n".join(widget_texts(notebook))


def widget_texts(notebook: nbformat.NotebookNode) -> list[str]:
    """Each HTML and text widget's value, one string per widget."""
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    kinds = {"HTMLModel", "TextareaModel"}
    return [str(w["state"].get("value", "")) for w in states.values() if w["model_name"] in kinds]


def no_errors(notebook: nbformat.NotebookNode) -> bool:
    return all(o.get("output_type") != "error" for cell in notebook.cells for o in cell.get("outputs", []))


def test_cell_dashboard_shows_the_secretarys_cell(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the secretary's page show 1 completed of 2 in cell A1, their reminder, and no other cell's member?"""
    notebook = execute(
        "cell.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("secretary"), "DIEMCAU_COURSE": "nq-cb-a1"},
        monkeypatch,
    )
    assert no_errors(notebook)
    assert "Hoàn thành 1/2 đảng viên (50%)" in printed(notebook)
    shown = widget_values(notebook)
    assert "Nguyễn Văn An" in shown and "Trần Thị Bình" in shown
    assert "Phạm Thị Dung" not in shown and "Vũ Thị Giang" not in shown and "Lê Văn Cường" not in shown
    assert (
        "1. Đ/c Trần Thị Bình (a1002): xem bài giảng «Bài giảng 1» (đã xem 50%); xem bài giảng «Bài giảng 2» (đã xem 0%)."
        in shown
    )


def test_cell_dashboard_records_a_group_screening(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the screening form (clicked headless) record a1002 at both lectures and turn them 'completed'?"""
    clicks = f"""
for lecture in ("lec-two", "{LECTURE_ID}"):
    lecture_pick.value, members_pick.value, place_box.value = lecture, ("a1002",), "Nhà văn hoá thôn"
    record_button.click()
    print(screening_message.value)
print(cell_view.summary_text(state["view"]))
"""
    notebook = execute(
        "cell.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("secretary"), "DIEMCAU_COURSE": "nq-cb-a1"},
        monkeypatch,
        extra=clicks,
    )
    out = printed(notebook)
    assert "Đã ghi nhận 1 đồng chí dự học bài «Bài giảng 2»." in out and "dự học bài «Bài giảng 1»." in out
    assert out.rstrip().endswith("Hoàn thành 2/2 đảng viên (100%)")
    assert "100% (2/2 bài) – 2 bài học tập trung" in widget_values(notebook)
    assert "Tất cả các đồng chí đã hoàn thành." in widget_values(notebook)


def test_cell_dashboard_says_what_the_screening_lacks(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clicked with no lecture, no date and nobody chosen, does the form show the API's Vietnamese message naming
    all three (it used to do nothing), and store nothing?"""
    clicks = """
lecture_pick.value, date_pick.value, members_pick.value = None, None, ()
record_button.click()
print(screening_message.value)
"""
    notebook = execute(
        "cell.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("secretary"), "DIEMCAU_COURSE": "nq-cb-a1"},
        monkeypatch,
        extra=clicks,
    )
    fields = ", ".join(t(f"completion.screening_field_{name}") for name in ("lecture", "date", "members"))
    assert t("completion.screening_missing", fields=fields) in printed(notebook) and no_errors(notebook)
    answer = httpx.get(f"{api.url}/api/courses/nq-cb-a1/completion", headers=auth("secretary"), timeout=30).json()
    assert not any(member["screened"] for member in answer["members"])  # nothing recorded


def test_cell_dashboard_ignores_a_unit_outside_the_secretarys_cell(
    api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for cell B1 by the environment, does a secretary of A1 still see only A1's members?"""
    notebook = execute(
        "cell.ipynb",
        {
            "DIEMCAU_API_URL": api.url,
            "JUPYTERHUB_API_TOKEN": token_of("secretary"),
            "DIEMCAU_COURSE": "nq-tinh",
            "DIEMCAU_ORG": "cb-b1",
        },
        monkeypatch,
    )
    shown = widget_values(notebook)
    assert "Nguyễn Văn An" in shown and "Vũ Thị Giang" not in shown and "Hoàng Văn Em" not in shown
    assert "(còn 20 ngày)" in shown


def test_cell_dashboard_shows_overdue_for_a_committee(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a commune committee opening cell A2 on an overdue course see both members 'Quá hạn' and the delay?"""
    notebook = execute(
        "cell.ipynb",
        {
            "DIEMCAU_API_URL": api.url,
            "JUPYTERHUB_API_TOKEN": token_of("committee"),
            "DIEMCAU_COURSE": "nq-xa-a",
            "DIEMCAU_ORG": "cb-a2",
        },
        monkeypatch,
    )
    shown = widget_values(notebook)
    assert "Phạm Thị Dung" in shown and "Nguyễn Văn An" not in shown
    assert shown.count(">Quá hạn</b>") == 2 and "Hoàn thành 0/2 đảng viên (0%)" in printed(notebook)
    assert "(đã quá hạn 2 ngày)" in shown


def test_cell_dashboard_explains_a_refused_token(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a token the API refuses, does the page say (in Vietnamese) to log in, without a traceback?"""
    notebook = execute("cell.ipynb", {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": "wrong"}, monkeypatch)
    assert no_errors(notebook)
    assert t("api.login_required") in widget_values(notebook)


def test_committee_dashboard_counts_by_sub_unit(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the commune committee see 1 of 2 done in its commune, cell A1 as the slowest unit with members,
    and the watching line reaching 1 member on 5 March?"""
    notebook = execute(
        "committee.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("committee"), "DIEMCAU_COURSE": "nq-cb-a1"},
        monkeypatch,
    )
    assert no_errors(notebook)
    out = printed(notebook)
    assert "Đảng bộ xã A: hoàn thành 1/2 đảng viên (50%)" in out
    assert "Chi bộ thôn A1 50%" in out and "Chi bộ thôn A2" not in out.splitlines()[-1]  # A2 has nobody enrolled
    shown = widget_values(notebook)
    assert "Đến hôm nay 1/2 đảng viên đã xem hết các bài giảng." in shown
    bars, history = svg_charts(notebook, "dashboard.chart_subunits"), svg_charts(notebook, "dashboard.chart_history")
    # one bar per direct sub-unit with members (cell A1), labelled with its name and its count
    assert bars.count("class='bar'") == 1 and "Chi bộ thôn A1" in bars and "50% (1/2)" in bars
    # the watching line from 5 to 10 March (the API's today), days written dd/mm, at 50 % all along
    assert "Đã xem hết bài giảng" in history and ">05/03<" in history and ">10/03<" in history
    assert "Mar" not in history and "2026-03" not in history
    watched = series_points(history)[0]
    assert len(watched) == 6 and len({y for _, y in watched}) == 1


def test_lecture_dashboard_draws_the_drop_off_and_terms(
    settings, api: RunningApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a trainer see 2 viewers, half of them leaving at 5:00, and the searches that found the lecture?"""
    index = open_index(settings)
    index.index_lecture(LectureMeta(LECTURE_ID, "Bài giảng 1", "nq-cb-a1"), [Segment(0, 10, 20, "Đảng viên gương mẫu")])
    index.close()
    for query in ("Đảng  viên", "đảng viên", "gương mẫu <script>"):
        httpx.get(f"{api.url}/api/search", params={"q": query}, headers=auth("member")).raise_for_status()
    notebook = execute(
        "lecture.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("trainer"), "DIEMCAU_LECTURE": LECTURE_ID},
        monkeypatch,
    )
    assert no_errors(notebook)
    assert "2 đảng viên đã xem trực tuyến; 50% xem đến đoạn cuối." in printed(notebook)
    assert "quanh phút 5:00 (giảm 50 điểm phần trăm)" in printed(notebook)
    shown = widget_values(notebook)
    assert "<td>đảng viên</td><td>2</td>" in shown
    curve = [y for _, y in series_points(svg_charts(notebook, "dashboard.chart_dropoff"))[0]]
    assert len(curve) == 40 and len(set(curve[:20])) == 1 and len(set(curve[20:])) == 1
    assert curve[20] - curve[0] == pytest.approx(charts_height_of(50))  # from 100 % to 50 %


def test_lecture_dashboard_shows_refused_watching(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a member who had watched half of the lecture claims a whole day of watching at once, does the
    trainer's page say how much was refused as faster than real time?"""
    forged = {"events": [{"event_id": "forged", "kind": "heartbeat", "start": 0, "end": 86_400, "seq": 1}]}
    url = f"{api.url}/api/lectures/{LECTURE_ID}/progress"
    assert httpx.post(url, json=forged, headers=auth("secretary")).json()["coverage_percent"] < 100
    notebook = execute(
        "lecture.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("trainer"), "DIEMCAU_LECTURE": LECTURE_ID},
        monkeypatch,
    )
    assert no_errors(notebook)
    assert "Đã từ chối" in widget_values(notebook) and "(1 lần gửi)" in widget_values(notebook)


def test_lecture_dashboard_refuses_a_secretary(api: RunningApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a secretary opening the lecture page get the API's Vietnamese refusal instead of numbers?"""
    notebook = execute(
        "lecture.ipynb",
        {"DIEMCAU_API_URL": api.url, "JUPYTERHUB_API_TOKEN": token_of("secretary"), "DIEMCAU_LECTURE": LECTURE_ID},
        monkeypatch,
    )
    assert no_errors(notebook) and "đảng viên đã xem" not in printed(notebook)
    assert "Đồng chí không có quyền thực hiện thao tác này." in widget_values(notebook)


def svg_charts(notebook: nbformat.NotebookNode, title_key: str) -> str:
    """The SVG chart (``diemcau.dashboards.charts``) whose caption is the catalogue's ``title_key``, from the
    executed widget state."""
    caption = f"<figcaption style='font-weight:bold;margin-bottom:4px'>{html.escape(t(title_key))}</figcaption>"
    found = [v for v in widget_texts(notebook) if caption in v]
    assert len(found) == 1, f"no single chart titled {t(title_key)!r}"
    return found[0]


def series_points(chart: str) -> list[list[tuple[float, float]]]:
    """Each drawn line's points (x, y in the SVG's coordinates, y grows downwards)."""
    return [
        [tuple(float(n) for n in pair.split(",")) for pair in points.split()]  # type: ignore[misc]
        for points in re.findall(r"class='series' points='([^']*)'", chart)
    ]


def charts_height_of(percent: float) -> float:
    """How far down a line moves for ``percent`` points on a 0–100 axis of the line chart."""
    return 150 * percent / 100
