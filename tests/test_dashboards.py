"""Dashboards below the notebooks: the pure view-models, the aggregate API routes, the API client, and the hub
settings that make the notebooks reachable under Voila."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from diemcau.adapters.db.dashboards import normalise_term, record_search_terms, top_search_terms
from diemcau.apps.hub.config import HubPaths, apply_config
from diemcau.core.completion_tree import ancestors, audience_curve, tally_units, watched_by_day
from diemcau.core.orgtree import OrgUnit
from diemcau.dashboards import cell_view, charts, committee_view, lecture_view
from diemcau.dashboards.api_client import ApiClient, ApiError, api_url_from_env
from diemcau.i18n import t
from diemcau.settings import Settings
from tests.apiclient import token_of
from tests.dashboard_fixtures import SECOND_LECTURE, running_api, seed_cell_course
from tests.transcript_fixtures import LECTURE_ID

REPO = Path(__file__).resolve().parents[1]
UNITS = [
    OrgUnit("tinh", "Tỉnh", "province", "/tinh/"),
    OrgUnit("xa", "Xã", "commune", "/tinh/xa/"),
    OrgUnit("c1", "Chi bộ 1", "cell", "/tinh/xa/c1/"),
    OrgUnit("c2", "Chi bộ 2", "cell", "/tinh/xa/c2/"),
]


# --- pure rules -------------------------------------------------------------------------------------------


def test_members_count_in_their_unit_and_every_ancestor() -> None:
    """Is each member counted in their cell, commune and province, with an empty cell kept at zero?"""
    members = [("/tinh/xa/c1/", "completed"), ("/tinh/xa/c1/", "in_progress"), ("/tinh/xa/c1/", "completed")]
    tallies = {x.unit.code: x for x in tally_units(UNITS, members)}
    assert ancestors("/tinh/xa/c1/") == ["/tinh/", "/tinh/xa/", "/tinh/xa/c1/"]
    assert (tallies["tinh"].total, tallies["tinh"].completed, tallies["tinh"].percent) == (3, 2, 66.7)
    assert tallies["c2"].total == 0 and tallies["c2"].percent == 0.0


def test_watched_by_day_is_cumulative_from_the_first_day() -> None:
    """Does the series count earlier finishers from the first day, add later ones on their day, skip 'not yet'?"""
    first = dt.date(2026, 3, 1)
    days = [dt.date(2026, 2, 20), dt.date(2026, 3, 2), None, dt.date(2026, 3, 9)]
    series = watched_by_day(days, first, dt.date(2026, 3, 3))
    assert series == [(first, 1), (dt.date(2026, 3, 2), 2), (dt.date(2026, 3, 3), 2)]


def test_audience_curve_counts_the_middle_of_each_bucket() -> None:
    """With one viewer to the end and one to the middle, is the curve 100 % then 50 %, and empty viewers ignored?"""
    viewers, shares = audience_curve([[[0, 100]], [[0, 50]], []], duration=100, buckets=4)
    assert viewers == 2 and shares == [100.0, 100.0, 50.0, 50.0]
    assert audience_curve([[[0, 10]]], duration=0, buckets=4) == (0, [])


# --- view-models ------------------------------------------------------------------------------------------


def member(card: str, name: str, status: str, coverage: dict, missing: list[str], **extra: object) -> dict:
    return {
        "card": card,
        "full_name": name,
        "unit": {"name": "Chi bộ 1"},
        "status": status,
        "status_label": {"completed": "Hoàn thành", "in_progress": "Đang học", "overdue": "Quá hạn"}[status],
        "coverage": coverage,
        "screened": extra.get("screened", []),
        "quiz_scores": extra.get("scores", {}),
        "essay_grade": extra.get("essay"),
        "missing": missing,
    }


COMPLETION = {
    "course_id": "nq",
    "title": "Nghị quyết 57",
    "deadline": "2026-03-08",
    "lectures": ["l1", "l2"],
    "quizzes": ["q1"],
    "members": [
        member("a1", "Nguyễn An", "completed", {"l1": 100.0}, [], screened=["l2"], scores={"q1": 9.0}, essay="Tốt"),
        member(
            "a2",
            "Trần Bình",
            "overdue",
            {"l1": 40.0},
            ["lecture:l1", "lecture:l2", "quiz:q1", "essay"],
            scores={"q1": 3.0},
            essay="Không đạt",
        ),
        member("a3", "Lê Cúc", "overdue", {}, ["lecture:l1", "lecture:l2", "quiz:q1", "essay"]),
    ],
}
QUIZZES = {"q1": cell_view.QuizInfo("Kiểm tra 1", 10.0)}
TITLES = {"l1": "Bài 1", "l2": "Bài 2"}


def test_cell_lines_carry_coverage_scores_and_what_is_left() -> None:
    """Does a line count a screened lecture as 100 %, show 9/10, and say what is left in Vietnamese?"""
    view = cell_view.build_cell_view(COMPLETION, TITLES, QUIZZES, days_to_deadline=-2)
    done, behind, idle = view.lines
    assert (done.coverage, done.lectures_done, done.screened, done.quiz_score, done.essay_grade) == (
        100.0,
        2,
        1,
        "9/10",
        "Tốt",
    )
    assert behind.coverage == 20.0 and behind.quiz_score == "3/10"
    assert behind.todo == (
        "xem bài giảng «Bài 1» (đã xem 40%)",
        "xem bài giảng «Bài 2» (đã xem 0%)",
        "làm đạt bài kiểm tra «Kiểm tra 1»",
        "viết lại bài thu hoạch (đang được chấm «Không đạt»)",
    )
    assert idle.todo[-1] == "nộp bài thu hoạch (hoặc chờ chấm)" and idle.quiz_score == "—"
    assert view.counts == {"not_started": 0, "in_progress": 0, "completed": 1, "overdue": 2}


def test_cell_filters_by_status_and_name() -> None:
    """Do the filters keep only overdue members, and then only the one whose name matches (any case)?"""
    view = cell_view.build_cell_view(COMPLETION, TITLES, QUIZZES, days_to_deadline=-2)
    assert [x.card for x in cell_view.filter_lines(view, ["overdue"])] == ["a2", "a3"]
    assert [x.card for x in cell_view.filter_lines(view, ["overdue"], "cúc")] == ["a3"]
    assert len(cell_view.filter_lines(view)) == 3


def test_reminder_is_ready_to_paste() -> None:
    """Is the Zalo reminder plain text: unit, course, overdue deadline, who is behind and what each must do?"""
    view = cell_view.build_cell_view(COMPLETION, TITLES, QUIZZES, days_to_deadline=-2)
    text = cell_view.reminder_text(view, "Chi bộ thôn Đông")
    lines = text.splitlines()
    assert lines[:4] == [
        "NHẮC NHỞ HỌC TẬP NGHỊ QUYẾT – Chi bộ thôn Đông",
        "Chương trình: Nghị quyết 57.",
        "Hạn hoàn thành: 08/03/2026 (đã quá hạn 2 ngày).",
        "Đã hoàn thành: 1/3 đồng chí.",
    ]
    assert lines[5].startswith("1. Đ/c Trần Bình (a2): xem bài giảng «Bài 1» (đã xem 40%);")
    assert lines[6].startswith("2. Đ/c Lê Cúc (a3):") and "Nguyễn An" not in text and "<" not in text


def test_table_escapes_names() -> None:
    """Is a member name with markup shown as text, not HTML?"""
    hostile = dict(COMPLETION, members=[member("x", "<img src=x>", "completed", {}, [])])
    view = cell_view.build_cell_view(hostile, TITLES, QUIZZES, None)
    assert "&lt;img src=x&gt;" in cell_view.table_html(view.lines, view)


UNITS_ANSWER = {
    "units": [
        {
            "code": "xa",
            "name": "Xã",
            "kind": "commune",
            "path": "/tinh/xa/",
            "depth": 2,
            "total": 30,
            "completed": 12,
            "counts": {"overdue": 1, "not_started": 5},
            "percent": 40.0,
        },
        {
            "code": "c1",
            "name": "Chi bộ 1",
            "kind": "cell",
            "path": "/tinh/xa/c1/",
            "depth": 3,
            "total": 10,
            "completed": 8,
            "counts": {},
            "percent": 80.0,
        },
        {
            "code": "c2",
            "name": "Chi bộ 2",
            "kind": "cell",
            "path": "/tinh/xa/c2/",
            "depth": 3,
            "total": 20,
            "completed": 4,
            "counts": {},
            "percent": 20.0,
        },
        {
            "code": "c3",
            "name": "Chi bộ 3",
            "kind": "cell",
            "path": "/tinh/xa/c3/",
            "depth": 3,
            "total": 0,
            "completed": 0,
            "counts": {},
            "percent": 0.0,
        },
    ]
}


def test_committee_lists_slowest_sub_units_first() -> None:
    """Are sub-units ordered slowest first, empty units left out, and the top unit summarised?"""
    lines = committee_view.unit_lines(UNITS_ANSWER)
    assert [x.code for x in committee_view.slowest_subunits(lines)] == ["c2", "c1"]
    assert [x.code for x in committee_view.slowest_leaves(lines)] == ["c2", "c1"]
    assert committee_view.summary_text(lines) == "Xã: hoàn thành 12/30 đảng viên (40%)"
    assert "padding-left:1.5em'>Chi bộ 2" in committee_view.tree_html(lines)


def test_history_has_an_even_pace_target_to_the_deadline() -> None:
    """Is the target 0 % on the first day and 100 % on the deadline, and the line in percent of members?"""
    history = {
        "deadline": "2026-03-05",
        "total": 4,
        "points": [{"day": f"2026-03-0{d}", "watched": n} for d, n in ((1, 0), (2, 1), (3, 1), (4, 2), (5, 3))],
    }
    series = committee_view.history_series(history)
    assert series.target_percent == (0.0, 25.0, 50.0, 75.0, 100.0)
    assert series.watched_percent == (0.0, 25.0, 25.0, 50.0, 75.0) and series.watched_today == 3


def test_lecture_drop_off_finds_the_steepest_fall() -> None:
    """Does the view find where the share falls most, and say it in minutes?"""
    analytics = {
        "title": "Bài 1",
        "viewers": 4,
        "buckets": [
            {"start": 0, "end": 60, "share": 100.0},
            {"start": 60, "end": 120, "share": 75.0},
            {"start": 120, "end": 180, "share": 25.0},
        ],
    }
    view = lecture_view.drop_off(analytics)
    assert (view.steepest_minute, view.steepest_drop, view.end_share) == (2.0, 50.0, 25.0)
    assert lecture_view.summary_text(view).endswith("quanh phút 2:00 (giảm 50 điểm phần trăm).")
    assert "&lt;b&gt;" in lecture_view.terms_html([{"term": "<b>", "count": 1}])


# --- the API client and the hub side ---------------------------------------------------------------------


def test_api_url_comes_from_the_spawner_or_the_hub_host() -> None:
    """Is DIEMCAU_API_URL used when set, else the API port on the host of JUPYTERHUB_API_URL?"""
    assert (
        api_url_from_env({"DIEMCAU_API_URL": "http://10.0.0.5:9000/services/diemcau/"})
        == "http://10.0.0.5:9000/services/diemcau"
    )
    derived = api_url_from_env({"JUPYTERHUB_API_URL": "http://10.0.0.7:8081/hub/api"})
    assert derived == "http://10.0.0.7:8090/services/diemcau"
    assert ApiClient(derived, "x").public_prefix == "/services/diemcau"


def test_staff_servers_open_on_the_dashboards(settings: Settings) -> None:
    """Do staff servers start in notebooks/ with the API's address and the Voila settings on their config path?"""
    paths = HubPaths(Path("/repo/hub_config/templates"), "/proxy", "/py", "/bin")
    spawner = apply_config(settings, Config(), paths).Spawner
    assert spawner.notebook_dir == "/repo/notebooks" and spawner.default_url == "/lab"
    assert spawner.environment["JUPYTER_CONFIG_PATH"] == "/repo/hub_config"
    assert spawner.environment["DIEMCAU_API_URL"] == "http://127.0.0.1:8090/services/diemcau"


def test_voila_settings_deny_unused_extensions_and_cull_kernels() -> None:
    """Does hub_config/jupyter_server_config.py deny nbgrader's extension on dashboards and cull idle kernels?"""
    config = PyFileConfigLoader("jupyter_server_config.py", str(REPO / "hub_config")).load_config()
    assert "@jupyter/nbgrader" in config.VoilaConfiguration.extension_denylist
    assert "@jupyter-widgets/jupyterlab-manager" not in config.VoilaConfiguration.extension_denylist
    assert config.MappingKernelManager.cull_idle_timeout > 0
    # nothing from a CDN (Font Awesome is in the lab template, replaced; MathJax by URL), gzip, no plotly bundle
    assert config.VoilaConfiguration.template == "diemcau"
    template = REPO / "hub_config" / "jupyter" / "voila" / "templates" / "diemcau"
    assert "https://" not in (template / "index.html.j2").read_text() + (template / "error.html").read_text()
    settings = config.ServerApp.tornado_settings
    assert settings["compress_response"] is True and settings["mathjax_url"] == settings["mathjax_config"] == "null"
    assert "jupyterlab-plotly" in config.VoilaConfiguration.extension_denylist


# --- aggregate routes on the real API ---------------------------------------------------------------------


@pytest.fixture
def client(settings, sqlite_factory):  # type: ignore[no-untyped-def]
    """An httpx client factory on the real API over the seeded cell course (uvicorn on loopback)."""
    with running_api(settings, sqlite_factory, seed_cell_course(sqlite_factory)) as running:
        yield lambda role: ApiClient(running.url, token_of(role))


def test_units_route_counts_the_committees_subtree(client) -> None:  # type: ignore[no-untyped-def]
    """Does the commune committee get its commune and both cells, 1 of 2 done in cell A1, nobody in A2?"""
    units = {u["code"]: u for u in client("committee").completion_units("nq-cb-a1")["units"]}
    assert set(units) == {"xa-a", "cb-a1", "cb-a2"}
    assert (units["xa-a"]["total"], units["xa-a"]["completed"], units["xa-a"]["percent"]) == (2, 1, 50.0)
    assert units["cb-a1"]["counts"] == {"not_started": 0, "in_progress": 1, "completed": 1, "overdue": 0}
    assert units["cb-a2"]["total"] == 0


def test_secretary_cannot_reach_another_cell(client) -> None:  # type: ignore[no-untyped-def]
    """Does a secretary asking for cell B1 get a Vietnamese 404, through completion and the aggregates alike?"""
    secretary = client("secretary")
    for call in (secretary.completion, secretary.completion_units, secretary.completion_history):
        with pytest.raises(ApiError) as refused:
            call("nq-tinh", "cb-b1")
        assert refused.value.status == 404 and refused.value.message == t("report.unknown_unit")
    own = {m["card"] for m in secretary.completion("nq-tinh")["members"]}
    assert own == {"a1001", "a1002"}


def test_history_route_dates_the_watching(client) -> None:  # type: ignore[no-untyped-def]
    """Does the history count a1001 from 5 March (both lectures watched) through the API's today, 10 March?"""
    history = client("secretary").completion_history("nq-cb-a1")
    assert history["total"] == 2 and history["lectures"] == 2
    assert history["points"][0] == {"day": "2026-03-05", "watched": 1} and history["points"][-1]["day"] == "2026-03-10"


def test_analytics_route_is_for_content_managers(client) -> None:  # type: ignore[no-untyped-def]
    """Does a trainer get the curve of lecture 2 (one viewer, whole lecture), and a committee a refusal?"""
    analytics = client("trainer").lecture_analytics(SECOND_LECTURE, buckets=10)
    assert analytics["viewers"] == 1 and [b["share"] for b in analytics["buckets"]] == [100.0] * 10
    with pytest.raises(ApiError) as refused:
        client("committee").lecture_analytics(SECOND_LECTURE)
    assert refused.value.status == 403
    with pytest.raises(ApiError) as missing:
        client("trainer").lecture_analytics("khong-co")
    assert missing.value.status == 404


def test_screening_through_the_client_and_its_refusal(client) -> None:  # type: ignore[no-untyped-def]
    """Does the client record a screening for the secretary's member and pass on the refusal for another cell's?"""
    secretary = client("secretary")
    saved = secretary.record_screening(LECTURE_ID, dt.date(2026, 3, 9), ["a1002"], "Nhà văn hoá")
    assert saved["members"] == ["a1002"]
    with pytest.raises(ApiError) as refused:
        secretary.record_screening(LECTURE_ID, dt.date(2026, 3, 9), ["b1001"])
    assert refused.value.status in (403, 422) and "b1001" in refused.value.message


def test_unreachable_api_is_a_vietnamese_message() -> None:
    """Does a dead address give an ApiError the page can show, not a traceback?"""
    with pytest.raises(ApiError) as failed:
        ApiClient("http://127.0.0.1:9/services/diemcau", "x", timeout=2).courses()
    assert failed.value.status == 0 and "Không kết nối được" in failed.value.message


def test_search_terms_are_counted_per_lecture(sqlite_factory) -> None:  # type: ignore[no-untyped-def]
    """Are searches counted per lecture found, folded to one spelling of spaces and case, and empty ones skipped?"""
    record_search_terms(sqlite_factory, "Đảng  Viên", ["l1", "l1", "l2"])
    record_search_terms(sqlite_factory, "đảng viên", ["l1"])
    record_search_terms(sqlite_factory, "   ", ["l1"])
    record_search_terms(sqlite_factory, "gương mẫu", [])
    assert top_search_terms(sqlite_factory, "l1") == [("đảng viên", 2)]
    assert top_search_terms(sqlite_factory, "l2") == [("đảng viên", 1)]
    assert normalise_term("x" * 300) == "x" * 100


# --- SVG charts (diemcau.dashboards.charts) ---


def test_the_bar_chart_draws_one_bar_per_unit_with_escaped_names() -> None:
    """Does each sub-unit get its own bar, labelled with its (escaped) name, its length in proportion and
    clamped to the axis, so a long name or a hostile one can neither collapse nor break the chart?"""
    svg = charts.bar_chart("Tỷ lệ", [("Chi bộ <b>Đông</b>", 50, "50%"), ("Chi bộ Tây", 150, "150%"), ("Bắc", -5, "0%")])
    assert svg.count("<g class='bar'>") == 3
    assert "Chi bộ &lt;b&gt;Đông&lt;/b&gt;" in svg and "<b>" not in svg
    lengths = re.findall(r"<rect x='0' y='\d+' width='([\d.]+)' height='12' fill='#1f6fb2'/>", svg)
    assert [float(x) for x in lengths] == [130.0, 260.0, 0.0]
    assert charts.bar_chart("Tỷ lệ", []) == ""


def test_the_line_chart_writes_days_as_dd_mm_and_marks_the_deadline() -> None:
    """Are the dates on the axis written 05/03 (never an English month name), the deadline marked, and each
    line drawn with one point per day?"""
    days = [dt.date(2026, 3, 5) + dt.timedelta(days=i) for i in range(30)]
    svg = charts.line_chart(
        "Theo ngày",
        [charts.day_label(d) for d in days],
        [charts.Series("Đã xem", [50.0] * 30), charts.Series("Cần đạt", [i * 3.0 for i in range(30)], dashed=True)],
        "% đảng viên",
        marker=(29, "Hạn"),
    )
    ticks = re.findall(r"class='tick'[^>]*>([^<]*)<", svg)
    assert ticks[0] == "05/03" and ticks[-1] == "03/04" and len(ticks) == 5
    assert not re.search(r"Mar|Apr|2026-", svg)
    assert ">Hạn<" in svg and "stroke-dasharray" in svg
    assert [len(p.split()) for p in re.findall(r"class='series' points='([^']*)'", svg)] == [30, 30]


def test_a_single_day_still_shows_a_point() -> None:
    """With one day of history (a course opened today), is the value still visible as a dot?"""
    svg = charts.line_chart("Theo ngày", ["07/12"], [charts.Series("Đã xem", [40.0])], "%")
    assert svg.count("<circle") == 1 and ">07/12<" in svg


@pytest.mark.parametrize(
    ("notebook", "key"),
    [
        ("cell", "dashboard.cell_title"),
        ("committee", "dashboard.committee_title"),
        ("lecture", "dashboard.lecture_title"),
        ("search", "search.title"),
    ],
)
def test_each_dashboard_tab_carries_its_vietnamese_title(notebook: str, key: str) -> None:
    """Is the browser tab of each Voila page (nbconvert's <title>, from the notebook's metadata, else the file
    name such as 'cell') the page's Vietnamese title from the catalogue?"""
    import json

    metadata = json.loads((REPO / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("title") == t(key)


def test_a_failed_cell_shows_a_vietnamese_sentence_and_no_traceback() -> None:
    """When a dashboard cell raises, does the diemcau Voila template show one Vietnamese sentence instead of
    Voila's English "There was an error when executing cell" and the traceback (paths, addresses), and drop
    stderr?"""
    import jinja2
    from jupyter_core.paths import jupyter_path
    from voila.paths import collect_template_paths

    from diemcau.dashboards.voila_texts import voila_texts

    roots = [str(REPO / "hub_config" / "jupyter"), *jupyter_path()]
    paths = collect_template_paths(["voila", "nbconvert"], "diemcau", root_dirs=roots)
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(paths)).get_template("index.html.j2")
    failed = {
        "output_type": "error",
        "ename": "ExecutionError",
        "evalue": "Execution error",
        "traceback": ["There was an error when executing cell [3]. /srv/diemcau/var/app.db"],
    }
    context = template.new_context({"output": failed, "resources": {"diemcau": voila_texts()}})  # as configured
    shown = "".join(template.blocks["error"](context))
    assert t("dashboard.voila_cell_failed") in shown and "Một phần của trang gặp lỗi" in shown
    assert "There was an error" not in shown and "/srv/diemcau" not in shown
    assert "".join(template.blocks["stream_stderr"](template.new_context({"output": {"text": "/srv/x"}}))).strip() == ""


def test_the_voila_templates_texts_come_from_the_catalogue() -> None:
    """Are the Voila template's loading, progress and error texts the catalogue's Vietnamese, with only the
    placeholders the page fills itself left open, and does the template hold no Vietnamese text of its own?"""
    from pathlib import Path

    from diemcau.dashboards.voila_texts import voila_texts
    from diemcau.i18n import t

    texts = voila_texts()
    assert texts["loading"] == t("dashboard.voila_loading") == "Đang mở trang…"
    assert texts["computing"].replace("{done}", "2").replace("{total}", "5") == t(
        "dashboard.voila_computing", done=2, total=5
    )
    assert texts["error_heading"].replace("{status}", "404") == t("dashboard.voila_error_heading", status=404)
    folder = Path(__file__).resolve().parents[1] / "hub_config" / "jupyter" / "voila" / "templates" / "diemcau"
    for template in ("index.html.j2", "error.html"):
        source = folder.joinpath(template).read_text(encoding="utf-8")
        body = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("{#"))
        assert not any(word in body for word in ("Đang", "Trang", "Không", "lỗi")), template
