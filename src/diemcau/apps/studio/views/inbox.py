"""Inbox: members' questions pinned to moments of lectures; the trainer answers for the cell or for all, or
hides one (abusive, off-topic, a duplicate) and may see the hidden ones to restore them."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.unsure import escape_markdown
from diemcau.apps.studio.views.common import show_error, show_refusal
from diemcau.i18n import t

SCOPES = ("cell", "all")
MAX_REASON = 200  # as the API accepts (core.questions.MAX_REASON)


def moment(seconds: float | None) -> str:
    """``125.0`` → ``02:05`` (the moment a question is pinned to)."""
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def render(api: StudioClient) -> None:
    """The inbox page."""
    st.header(t("studio.page_inbox"))
    courses = {c["id"]: c["title"] for c in api.courses()}
    course = st.selectbox(
        t("studio.field_course"),
        [None, *courses],
        key="inbox_course",
        format_func=lambda c: t("studio.all_courses") if c is None else courses[c],
    )
    everything = st.toggle(t("studio.show_answered"), key="inbox_all")
    hidden = st.toggle(t("studio.show_hidden"), key="inbox_hidden")
    if notice := st.session_state.pop("inbox_notice", None):
        st.success(notice)
    try:
        questions = api.inbox(course, "all" if everything else "unanswered", hidden=hidden)
    except ApiError as error:
        show_refusal(error)
        return
    if not questions:
        st.info(t("studio.hidden_empty" if hidden else "studio.inbox_empty"))
        return
    for question in questions:
        _question(api, question)


def _question(api: StudioClient, q: dict) -> None:
    qid = str(q.get("id"))
    moment_label = q.get("moment_label") or moment(q.get("moment"))
    where = " · ".join(x for x in (q.get("lecture_title", ""), moment_label) if x)
    who = " · ".join(x for x in (q.get("asker_name") or q.get("asker") or "", q.get("unit_name", "")) if x)
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(q.get('text', ''))}**")  # a member's words, shown as typed
        st.caption(" — ".join(x for x in (who, where) if x))
        if q.get("hidden"):
            _restore(api, qid, q.get("hidden_reason"))
            return
        if q.get("answered"):
            scope = t(f"studio.scope_{q.get('scope', 'cell')}")
            st.success(t("studio.answer_shown", answer=q.get("answer") or "", scope=scope))
        else:
            _answer(api, qid)
        _hide(api, qid)


def _answer(api: StudioClient, qid: str) -> None:
    with st.form(f"answer-{qid}"):
        text = st.text_area(t("studio.field_answer_text"), key=f"answer-text-{qid}")
        scope = st.radio(
            t("studio.field_scope"),
            SCOPES,
            key=f"answer-scope-{qid}",
            horizontal=True,
            format_func=lambda s: t(f"studio.scope_{s}"),
        )
        sent = st.form_submit_button(t("studio.answer_button"))
    if sent:
        _send(lambda: api.answer_question(qid, text, scope), t("studio.answered"))  # it leaves the list


def _hide(api: StudioClient, qid: str) -> None:
    with st.expander(t("studio.hide_button")), st.form(f"hide-{qid}"):
        reason = st.text_input(t("studio.field_hide_reason"), key=f"hide-reason-{qid}", max_chars=MAX_REASON)
        sent = st.form_submit_button(t("studio.hide_button"), key=f"hide-button-{qid}")
    if sent:
        _send(lambda: api.hide_question(qid, True, reason), t("studio.hidden_done"))  # it leaves the list


def _restore(api: StudioClient, qid: str, reason: str | None) -> None:
    st.warning(t("studio.hidden_shown", reason=escape_markdown(reason)) if reason else t("studio.hidden_no_reason"))
    if st.button(t("studio.restore_button"), key=f"restore-{qid}"):
        _send(lambda: api.hide_question(qid, False), t("studio.restored"))


def _send(call: Callable[[], object], notice: str) -> None:
    """Make the API call; on success note ``notice`` for the next run and rerun (the list changes)."""
    try:
        call()
    except ApiError as error:
        show_error(error)
        return
    st.session_state["inbox_notice"] = notice
    st.rerun()
