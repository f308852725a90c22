"""Quiz authoring: a form that writes the spec YAML, then validate, preview (as a member sees it), release.

The form only shapes what the trainer typed (``quiz_yaml``); every rule is checked by the API with the same
code as ``diemcau quiz validate``, and each problem is shown with its field. A released quiz can be opened
again: its saved spec fills the form (``quiz_yaml.from_yaml``), and releasing replaces it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.quiz_yaml import QUESTION_TYPES, QuestionValues, QuizValues, from_yaml, to_yaml
from diemcau.apps.studio.unsure import escape_markdown
from diemcau.apps.studio.views.common import pick_course, show_error
from diemcau.i18n import t

TYPES = QUESTION_TYPES
RESULT_KEY = "quiz_result"
# Streamlit's default range is ten years either side of today; an opened quiz may close later ("never", in effect).
DATE_RANGE = {"min_value": dt.date(2000, 1, 1), "max_value": dt.date(2100, 12, 31)}
OPENED_KEY = "quiz_opened"  # what opening a quiz gave: (quiz id, OpenedQuiz) or an ApiError, shown once


def render(api: StudioClient) -> None:
    """The quiz page."""
    st.header(t("studio.page_quiz"))
    course = pick_course(api, "quiz_course")
    if course is None:
        return
    _open_existing(api, course)
    quiz_id = st.text_input(t("studio.field_quiz_id"), key="quiz_id", help=t("studio.quiz_id_help")).strip()
    values = _quiz_fields()
    spec_yaml = to_yaml(values)
    with st.expander(t("studio.yaml_heading")):
        st.code(spec_yaml, language="yaml")
    check, preview, release = st.columns(3)
    action = None
    if check.button(t("studio.validate_button"), use_container_width=True):
        action = "validate"
    if preview.button(t("studio.preview_button"), use_container_width=True):
        action = "preview"
    if release.button(t("studio.release_button"), type="primary", use_container_width=True):
        action = "release"
    if action and not quiz_id:
        st.error(t("studio.quiz_id_required"))
    elif action:
        _act(api, action, course, quiz_id, spec_yaml)


def _open_existing(api: StudioClient, course: str) -> None:
    """Pick a released quiz of the course and fill the form from its saved spec."""
    try:
        released = {q["quiz_id"]: q["title"] for q in api.quizzes(course)}
    except ApiError as error:
        show_error(error)
        released = {}
    if released:
        with st.expander(t("studio.open_quiz_heading")):
            st.selectbox(
                t("studio.field_open_quiz"),
                list(released),
                key=f"quiz_open_pick_{course}",
                format_func=lambda q: f"{released[q]} ({q})",
            )
            st.button(t("studio.open_quiz_button"), key="quiz_open_button", on_click=_open, args=(api, course))
            st.caption(t("studio.rerelease_note"))
    opened = st.session_state.pop(OPENED_KEY, None)
    if isinstance(opened, ApiError):
        show_error(opened)
    elif opened is not None:
        quiz_id, result = opened
        st.success(t("studio.quiz_opened", title=result.values.title, quiz=quiz_id))
        if result.dropped:
            st.warning(t("studio.quiz_open_dropped", fields=", ".join(result.dropped)))


def _open(api: StudioClient, course: str) -> None:
    """Button callback (it runs before the widgets exist, so it may set their values): fill the form."""
    quiz_id = st.session_state.get(f"quiz_open_pick_{course}")  # one per course: each has its own quizzes
    try:
        opened = from_yaml(api.quiz_spec(course, quiz_id)["yaml"])
    except ApiError as error:
        st.session_state[OPENED_KEY] = error
        return
    except ValueError:
        st.session_state[OPENED_KEY] = ApiError(422, t("studio.quiz_spec_unreadable", quiz=quiz_id))
        return
    for key in [k for k in st.session_state if str(k).startswith("quiz_q")]:  # the previous quiz's questions
        del st.session_state[key]
    st.session_state.update(form_state(quiz_id, opened.values))
    st.session_state[OPENED_KEY] = (quiz_id, opened)


def form_state(quiz_id: str, values: QuizValues) -> dict[str, Any]:
    """The session state (widget key → value) that shows ``values`` in the form below."""
    state: dict[str, Any] = {
        "quiz_id": quiz_id,
        "quiz_title": values.title,
        "quiz_description": values.description,
        "quiz_pass_mark": int(values.pass_mark),
        "quiz_attempts": values.attempts,
        "quiz_counts": values.counts,
        "quiz_late": values.late,
        "quiz_opens": values.opens,
        "quiz_closes": values.closes,
        "quiz_shuffle_q": values.shuffle_questions,
        "quiz_shuffle_o": values.shuffle_options,
        "quiz_count": max(1, len(values.questions)),
    }
    for i, q in enumerate(values.questions):
        state |= _question_state(i, q)
    return state


def _question_state(i: int, q: QuestionValues) -> dict[str, Any]:
    default_points = 10.0 if q.type == "essay" else 1.0
    state: dict[str, Any] = {
        f"quiz_q{i}_id": q.id,
        f"quiz_q{i}_type": q.type,
        f"quiz_q{i}_text": q.text,
        f"quiz_q{i}_points_{q.type == 'essay'}": float(default_points if q.points is None else q.points),
    }
    if q.type in ("single", "multiple"):
        state |= {f"quiz_q{i}_options": q.options, f"quiz_q{i}_letters": q.answer}
    elif q.type == "true_false":
        state[f"quiz_q{i}_tf"] = q.answer or "đúng"
    elif q.type == "short":
        state[f"quiz_q{i}_short"] = q.answer
    else:
        state[f"quiz_q{i}_min_words"] = q.min_words
    return state


def _quiz_fields() -> QuizValues:
    title = st.text_input(t("studio.field_quiz_title"), key="quiz_title")
    description = st.text_area(t("studio.field_description"), key="quiz_description", height=80)
    a, b, c, d = st.columns(4)
    pass_mark = a.number_input(t("studio.field_pass_mark"), 0, 100, 50, key="quiz_pass_mark")
    attempts = b.number_input(t("studio.field_attempts"), 1, 20, 1, key="quiz_attempts")
    counts = c.selectbox(
        t("studio.field_counts"), ("best", "last"), key="quiz_counts", format_func=lambda v: t(f"studio.counts_{v}")
    )
    late = d.selectbox(
        t("studio.field_late"), ("accept", "refuse"), key="quiz_late", format_func=lambda v: t(f"studio.late_{v}")
    )
    e, f, g, h = st.columns(4)
    opens = e.date_input(t("studio.field_opens"), value=None, key="quiz_opens", format="DD/MM/YYYY", **DATE_RANGE)
    closes = f.date_input(t("studio.field_closes"), value=None, key="quiz_closes", format="DD/MM/YYYY", **DATE_RANGE)
    shuffle_q = g.checkbox(t("studio.field_shuffle_questions"), key="quiz_shuffle_q")
    shuffle_o = h.checkbox(t("studio.field_shuffle_options"), key="quiz_shuffle_o")
    count = st.number_input(t("studio.field_question_count"), 1, 100, 1, key="quiz_count")
    questions = tuple(_question_fields(i) for i in range(int(count)))
    return QuizValues(
        title, description, pass_mark, int(attempts), counts, late, opens, closes, shuffle_q, shuffle_o, questions
    )


def _question_fields(i: int) -> QuestionValues:
    with st.expander(t("studio.question_heading", number=i + 1), expanded=True):
        left, right, points_col = st.columns([1, 2, 1])
        q_id = left.text_input(t("studio.field_question_id"), value=f"q{i + 1}", key=f"quiz_q{i}_id")
        q_type = right.selectbox(
            t("studio.field_question_type"), TYPES, key=f"quiz_q{i}_type", format_func=lambda v: t(f"studio.type_{v}")
        )
        default_points = 10.0 if q_type == "essay" else 1.0
        points = points_col.number_input(
            t("studio.field_points"), 0.0, 1000.0, default_points, step=0.5, key=f"quiz_q{i}_points_{q_type == 'essay'}"
        )
        text = st.text_area(t("studio.field_question_text"), key=f"quiz_q{i}_text", height=68)
        options, answer, min_words = "", "", 0
        if q_type in ("single", "multiple"):
            options = st.text_area(t("studio.field_options"), key=f"quiz_q{i}_options", help=t("studio.options_help"))
            answer = st.text_input(
                t("studio.field_answer_letters"), key=f"quiz_q{i}_letters", help=t("studio.answer_letters_help")
            )
        elif q_type == "true_false":
            answer = st.radio(t("studio.field_answer"), ("đúng", "sai"), key=f"quiz_q{i}_tf", horizontal=True)
        elif q_type == "short":
            answer = st.text_area(t("studio.field_answer_short"), key=f"quiz_q{i}_short", help=t("studio.short_help"))
        else:
            min_words = st.number_input(t("studio.field_min_words"), 0, 5000, 0, key=f"quiz_q{i}_min_words")
    return QuestionValues(q_id, q_type, text, points, options, answer, int(min_words))


def _act(api: StudioClient, action: str, course: str, quiz_id: str, spec_yaml: str) -> None:
    try:
        if action == "validate":
            result = api.quiz_validate(course, quiz_id, spec_yaml)
            if result["valid"]:
                st.success(t("studio.quiz_valid", questions=result["questions"], points=f"{result['total_points']:g}"))
            else:
                show_error(ApiError(422, t("studio.quiz_problems", count=len(result["problems"])), result["problems"]))
        elif action == "preview":
            show_preview(api.quiz_preview(course, quiz_id, spec_yaml))
        else:
            released = api.quiz_release(course, quiz_id, spec_yaml)
            st.success(
                t(
                    "studio.quiz_released",
                    title=released["title"],
                    questions=released["questions"],
                    file=released["spec_file"],
                )
            )
    except ApiError as error:
        show_error(error)


def show_preview(quiz: dict) -> None:
    """The quiz as a member would see it: its rules, then each question with its (disabled) answer widget."""
    st.divider()
    st.subheader(t("studio.preview_heading", title=quiz["title"]))
    if quiz["description"]:
        st.markdown(escape_markdown(quiz["description"]))
    st.caption(
        t(
            "studio.preview_rules",
            points=f"{quiz['total_points']:g}",
            pass_mark=f"{quiz['pass_percent']:g}",
            attempts=quiz["attempts_allowed"],
        )
    )
    for number, q in enumerate(quiz["questions"], 1):
        text = escape_markdown(q["text"])
        st.markdown(t("studio.preview_question", number=number, text=text, points=f"{q['points']:g}"))
        key = f"preview-{q['id']}"
        labels = [f"{o['id']}. {o['text']}" for o in q["options"]]
        if q["type"] == "single":
            st.radio(q["text"], labels, index=None, disabled=True, key=key, label_visibility="collapsed")
        elif q["type"] == "multiple":
            for label in labels:
                st.checkbox(label, disabled=True, key=f"{key}-{label}")
        elif q["type"] == "true_false":
            st.radio(
                q["text"],
                (t("studio.true"), t("studio.false")),
                index=None,
                disabled=True,
                key=key,
                horizontal=True,
                label_visibility="collapsed",
            )
        elif q["type"] == "short":
            st.text_input(q["text"], disabled=True, key=key, label_visibility="collapsed")
        else:
            st.text_area(
                q["text"],
                disabled=True,
                key=key,
                label_visibility="collapsed",
                help=t("studio.min_words", count=q["min_words"]) if q["min_words"] else None,
            )
