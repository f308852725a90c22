"""The studio's pure parts: publishing steps, unsure words, the quiz form's YAML, the proxy entry, API errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import yaml
from traitlets.config import Config

from diemcau.apps.studio.client import ApiError, StudioClient, error_message
from diemcau.apps.studio.launch import (
    APP_SCRIPT,
    KEY_ENV,
    KEY_HEADER,
    SERVER_NAME,
    came_through_proxy,
    server_proxy_entry,
    streamlit_command,
)
from diemcau.apps.studio.quiz_yaml import QUESTION_TYPES, OpenedQuiz, QuestionValues, QuizValues, from_yaml, to_yaml
from diemcau.apps.studio.stages import StepState, is_settled, lecture_steps
from diemcau.apps.studio.unsure import escape_markdown, highlighted, is_unsure, next_unsure, unsure_words
from diemcau.apps.studio.views.correct import segment_changes
from diemcau.i18n import t

REPO = Path(__file__).resolve().parents[1]


def states(lecture: dict) -> list[tuple[str, str]]:
    return [(s.name, s.state.value) for s in lecture_steps(lecture)]


@pytest.mark.parametrize(
    ("lecture", "expected"),
    [
        (
            {"status": "processing", "stage": "fetch", "progress": 3.0},
            [("fetch", "running"), ("transcode", "waiting"), ("transcribe", "waiting"), ("index", "waiting")],
        ),
        (
            {"status": "processing", "stage": "rendition:v360", "progress": 40.0},
            [("fetch", "done"), ("transcode", "running"), ("transcribe", "waiting"), ("index", "waiting")],
        ),
        (
            {"status": "failed", "stage": "probe", "error": "hỏng"},
            [("fetch", "failed"), ("transcode", "waiting"), ("transcribe", "waiting"), ("index", "waiting")],
        ),
        (
            {"status": "ready", "stage": "publish", "transcript": "queued"},
            [("fetch", "done"), ("transcode", "done"), ("transcribe", "waiting"), ("index", "waiting")],
        ),
        (
            {"status": "ready", "stage": "transcribe", "progress": 55.0, "transcript": "queued"},
            [("fetch", "done"), ("transcode", "done"), ("transcribe", "running"), ("index", "running")],
        ),
        (
            {"status": "ready", "stage": "done", "progress": 100.0, "transcript": "queued"},
            [("fetch", "done"), ("transcode", "done"), ("transcribe", "done"), ("index", "done")],
        ),
        (
            {"status": "ready", "stage": "decode", "transcript": "queued", "error": "Không đọc được âm thanh"},
            [("fetch", "done"), ("transcode", "done"), ("transcribe", "failed"), ("index", "waiting")],
        ),
        (
            {"status": "ready", "stage": "publish", "transcript": "skipped"},
            [("fetch", "done"), ("transcode", "done"), ("transcribe", "skipped"), ("index", "skipped")],
        ),
    ],
)
def test_lecture_steps_follow_the_reported_job(lecture: dict, expected: list) -> None:
    """Is each of the four steps in the state the reported job and the lecture's status imply?"""
    assert states(lecture) == expected


def test_settled_once_done_skipped_or_failed() -> None:
    """Does following stop when nothing is left to wait for, and only then?"""
    assert not is_settled(lecture_steps({"status": "ready", "stage": "transcribe", "transcript": "queued"}))
    assert is_settled(lecture_steps({"status": "ready", "stage": "done", "transcript": "queued"}))
    assert is_settled(lecture_steps({"status": "failed", "stage": "rendition:audio", "error": "x"}))
    failed = lecture_steps({"status": "failed", "stage": "rendition:audio", "error": "Tệp hỏng"})
    assert failed[1].state == StepState.FAILED and failed[1].error == "Tệp hỏng"


def segment(probabilities: list[float], text: str = "a b c") -> dict:
    words = [{"text": " " + w, "start": 0, "end": 1, "probability": p} for w, p in zip(text.split(), probabilities)]
    return {"index": 0, "start": 0.0, "end": 1.0, "text": text, "words": words}


def test_unsure_words_and_the_next_unsure_segment() -> None:
    """Are words under the threshold found, and does "next unsure" skip sure segments and wrap around?"""
    sure, unsure = segment([0.9, 0.8, 0.99]), segment([0.9, 0.3, 0.99])
    assert unsure_words(unsure) == [1] and not is_unsure(sure) and is_unsure(unsure)
    segments = [unsure, sure, sure, unsure]
    assert next_unsure(segments, 0) == 3 and next_unsure(segments, 3) == 0
    assert next_unsure([sure, sure], 0) is None
    corrected = {"index": 0, "start": 0, "end": 1, "text": "a b c", "words": []}  # a corrected segment has no words
    assert not is_unsure(corrected)


def test_highlighting_escapes_what_the_transcript_says() -> None:
    """Is an unsure word highlighted with its probability, and Markdown in a transcript shown literally?"""
    shown = highlighted(segment([0.9, 0.25, 0.9], "đảng *viên* [x]"))
    assert shown == "đảng :orange-background[\\*viên\\*] :gray[(25%)] \\[x\\]"
    assert escape_markdown("1. **a**") == "1\\. \\*\\*a\\*\\*"


def test_segment_changes_sends_only_what_changed() -> None:
    """Does saving send only the changed fields (spacing alone is no change)?"""
    seg = {"text": "kính thưa các đồng chí", "start": 1.0, "end": 2.5}
    assert segment_changes(seg, "kính  thưa các đồng chí ", 1.0, 2.5) == {}
    assert segment_changes(seg, "Kính thưa các đồng chí", 1.0, 2.6) == {"text": "Kính thưa các đồng chí", "end": 2.6}


def test_the_quiz_form_writes_the_spec_format() -> None:
    """Does the form's YAML read back as the spec docs/quizzes.md describes, Vietnamese kept as written?"""
    values = QuizValues(
        "Kiểm tra NQ 57",
        "Mô tả",
        70,
        2,
        "last",
        "refuse",
        dt.date(2026, 1, 1),
        dt.date(2026, 6, 30),
        True,
        False,
        (
            QuestionValues("q1", "single", "Câu một?", 1.0, "Đúng\nSai\n", "a"),
            QuestionValues("q2", "multiple", "Câu hai?", 2.0, "A1\nA2\nA3", "A, c"),
            QuestionValues("q3", "true_false", "Đúng không?", None, answer="đúng"),
            QuestionValues("q4", "short", "Thủ đô?", 1.0, answer="Hà Nội\nHN\n"),
            QuestionValues("bai", "essay", "Viết bài thu hoạch.", 5.0, min_words=20),
        ),
    )
    text = to_yaml(values)
    assert "Kiểm tra NQ 57" in text and "closes: 2026-06-30" in text
    spec = yaml.safe_load(text)
    assert spec["questions"] == [
        {"id": "q1", "type": "single", "text": "Câu một?", "options": ["Đúng", "Sai"], "answer": "A", "points": 1.0},
        {
            "id": "q2",
            "type": "multiple",
            "text": "Câu hai?",
            "options": ["A1", "A2", "A3"],
            "answer": ["A", "C"],
            "points": 2.0,
        },
        {"id": "q3", "type": "true_false", "text": "Đúng không?", "answer": "đúng"},
        {"id": "q4", "type": "short", "text": "Thủ đô?", "answer": ["Hà Nội", "HN"], "points": 1.0},
        {"id": "bai", "type": "essay", "text": "Viết bài thu hoạch.", "points": 5.0, "min_words": 20},
    ]
    assert spec["shuffle"] == {"questions": True, "options": False} and spec["opens"] == dt.date(2026, 1, 1)


EVERY_TYPE = (
    QuestionValues("q1", "single", "Câu một?", 1.0, "Đúng\nSai", "A"),
    QuestionValues("q2", "multiple", "Câu hai?", 2.0, "A1\nA2\nA3", "A, C"),
    QuestionValues("q3", "true_false", "Đúng không?", 1.0, answer="sai"),
    QuestionValues("q4", "short", "Thủ đô?", 1.5, answer="Hà Nội\nHN"),
    QuestionValues("bai", "essay", "Viết bài thu hoạch.", 5.0, min_words=20),
)


@pytest.mark.parametrize(
    "form",
    [
        QuizValues(
            "Kiểm tra NQ 57",
            "Mô tả\nhai dòng",
            70,
            2,
            "last",
            "refuse",
            dt.date(2026, 1, 1),
            dt.date(2026, 6, 30),
            True,
            False,
            EVERY_TYPE,
        ),
        QuizValues(
            "Ôn tập",
            "",
            50,
            1,
            "best",
            "accept",
            None,
            None,
            True,
            True,
            (
                QuestionValues("q1", "multiple", "Chọn?", 0.5, "Một\nHai", "B"),
                QuestionValues("q2", "true_false", "Đúng?", 1.0, answer="đúng"),
                QuestionValues("tu_luan", "essay", "Viết.", 10.0),
            ),
        ),
    ],
)
def test_the_form_reads_back_what_it_wrote(form: QuizValues) -> None:
    """Does form → YAML → form give the same form, for every question type the form has, with nothing dropped?"""
    assert {q.type for q in EVERY_TYPE} == set(QUESTION_TYPES)
    assert from_yaml(to_yaml(form)) == OpenedQuiz(form, ())


def test_a_hand_written_spec_opens_naming_what_the_form_cannot_hold() -> None:
    """Does a spec written by hand (docs/quizzes.md's shorthands) fill the form, and are the fields the form
    cannot hold as written — a time of day, a fractional pass mark, exact diacritics — named?"""
    opened = from_yaml(
        "title: Kiểm tra\npass_mark: 66.4\ncloses: 2027-06-30 17:00\nshuffle: true\nquestions:\n"
        "  - {id: q1, type: true_false, text: Đúng không, answer: false}\n"
        "  - {id: q2, type: short, text: Ai ban hành, answer: Bộ Chính trị, accept_no_diacritics: false}\n"
        "  - {id: q3, type: single, text: Chọn, options: [Một, Hai], answer: B, accept_no_diacritics: true}\n"
    )
    assert opened.dropped == ("closes", "questions[2].accept_no_diacritics", "pass_mark")
    form = opened.values
    assert (form.pass_mark, form.attempts, form.counts, form.late) == (66, 1, "best", "accept")
    assert form.closes == dt.date(2027, 6, 30) and form.opens is None
    assert form.shuffle_questions and form.shuffle_options
    assert form.questions == (
        QuestionValues("q1", "true_false", "Đúng không", 1.0, answer="sai"),
        QuestionValues("q2", "short", "Ai ban hành", 1.0, answer="Bộ Chính trị"),
        QuestionValues("q3", "single", "Chọn", 1.0, "Một\nHai", "B"),
    )


@pytest.mark.parametrize("text", ["title: [a\n", "- một\n- hai\n", ""])
def test_a_spec_that_is_no_yaml_mapping_does_not_open(text: str) -> None:
    """Is a file that is not a YAML mapping refused (the page says so) rather than half filling the form?"""
    with pytest.raises(ValueError):
        from_yaml(text)


def test_the_server_proxy_entry_runs_streamlit_under_the_prefix() -> None:
    """Does the entry run our script headless on jupyter-server-proxy's port, under /user/<name>/studio?"""
    entry = server_proxy_entry("/venv/bin/python")
    command = entry["command"]
    assert command[:5] == ["/venv/bin/python", "-m", "streamlit", "run", str(APP_SCRIPT)]
    assert "--server.port={port}" in command and "--server.baseUrlPath={base_url}studio" in command
    assert "--server.headless=true" in command and "--browser.gatherUsageStats=false" in command
    assert entry["absolute_url"] is True and APP_SCRIPT.exists()
    assert streamlit_command("p")[-1].startswith("--")


def test_the_studio_trusts_only_requests_its_own_server_proxied() -> None:
    """Does each entry draw its own key, hand it to Streamlit and add it to every proxied request, and is a
    session without it (another local user on Streamlit's port), with a wrong one, or with no key set up,
    refused the trainer's token?"""
    entry, other = server_proxy_entry("/py"), server_proxy_entry("/py")
    key = entry["environment"][KEY_ENV]
    assert len(key) >= 32 and entry["request_headers_override"] == {KEY_HEADER: key}
    assert other["environment"][KEY_ENV] != key
    environ = {KEY_ENV: key}
    assert came_through_proxy({KEY_HEADER: key}, environ)
    assert not came_through_proxy({}, environ)
    assert not came_through_proxy({KEY_HEADER: key[:-1] + "x"}, environ)
    assert not came_through_proxy({KEY_HEADER: ""}, {KEY_ENV: ""})


def test_jupyter_server_config_registers_the_studio() -> None:
    """Does hub_config/jupyter_server_config.py (what staff servers load) register the ``studio`` proxy?"""
    config = Config()
    source = (REPO / "hub_config" / "jupyter_server_config.py").read_text(encoding="utf-8")
    exec(compile(source, "jupyter_server_config.py", "exec"), {"get_config": lambda: config})  # noqa: S102
    assert config.ServerProxy.servers[SERVER_NAME]["command"] == server_proxy_entry()["command"]


def test_api_errors_become_the_apis_vietnamese_reason() -> None:
    """Is the API's ``detail`` passed on as is, a missing route named as such, and FastAPI's English
    validation list turned into the fields to fix?"""

    def response(status: int, body: object) -> httpx.Response:
        return httpx.Response(status, json=body)

    assert error_message(response(422, {"detail": "Tệp rỗng."})) == ("Tệp rỗng.", [])
    assert error_message(response(404, {"detail": "Not Found"}))[0] == t("studio.route_missing")
    assert error_message(response(404, {"detail": t("api.no_such_address")}))[0] == t("studio.route_missing")
    listed = response(422, {"detail": [{"loc": ["body", "title"], "msg": "Field required"}]})
    assert error_message(listed)[0] == t("studio.invalid_request", fields="title")
    problems = [{"line": 1, "field": "title", "message": "Thiếu"}]
    assert error_message(response(422, {"detail": "Có lỗi", "problems": problems})) == ("Có lỗi", problems)
    assert error_message(httpx.Response(502, text="<html>"))[0] == t("studio.api_failed", status=502)


def test_the_client_needs_the_servers_environment() -> None:
    """Without DIEMCAU_API_URL or a token, is the trainer told what to do instead of a traceback?"""
    with pytest.raises(ApiError) as refused:
        StudioClient.from_env({"DIEMCAU_API_URL": "http://127.0.0.1:1/services/diemcau"})
    assert refused.value.message == t("studio.not_configured")
    environ = {"DIEMCAU_API_URL": "http://127.0.0.1:9/services/diemcau", "JUPYTERHUB_API_TOKEN": "x"}
    client = StudioClient.from_env(environ)
    assert client.http.headers["authorization"] == "token x"
    with pytest.raises(ApiError) as unreachable:
        client.me()
    assert unreachable.value.status == 0 and unreachable.value.message == t("studio.unreachable", detail="ConnectError")
