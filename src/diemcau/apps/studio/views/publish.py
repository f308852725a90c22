"""Publish: a file or a link becomes a lecture; then its four steps are followed live until it is settled."""

from __future__ import annotations

import streamlit as st

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.stages import Step, StepState, is_settled, lecture_steps
from diemcau.apps.studio.views.common import pick_course, show_error, uploader
from diemcau.i18n import t

FOLLOW_KEY = "publish_lecture"
POLL_SECONDS = 2.0
ICONS = {
    StepState.WAITING: "⏳",
    StepState.RUNNING: "🔄",
    StepState.DONE: "✅",
    StepState.FAILED: "❌",
    StepState.SKIPPED: "➖",
}


def render(api: StudioClient) -> None:
    """The publish form, and the lecture being followed."""
    st.header(t("studio.page_publish"))
    course = pick_course(api, "publish_course")
    if course is not None:
        _form(api, course)
    _processing_list(api)
    if st.session_state.get(FOLLOW_KEY):
        _follow(api, st.session_state[FOLLOW_KEY])


def _form(api: StudioClient, course: str) -> None:
    with st.form("publish_form", clear_on_submit=False):
        title = st.text_input(t("studio.field_title"))
        speaker = st.text_input(t("studio.field_speaker"))
        resolution = st.text_input(t("studio.field_resolution"))
        upload = uploader(t("studio.field_file"), "publish_file", t("studio.upload_hint_media"))
        url = st.text_input(t("studio.field_url"), placeholder="https://…")
        transcribe = st.checkbox(t("studio.field_transcribe"), value=True)
        submitted = st.form_submit_button(t("studio.publish_button"), type="primary")
    if submitted:
        _publish(api, course, title, speaker, resolution, upload, url.strip(), transcribe)


def _publish(api, course, title, speaker, resolution, upload, url, transcribe) -> None:  # type: ignore[no-untyped-def]
    if not title.strip():
        st.error(t("studio.title_required"))
        return
    if (upload is None) == (not url):
        st.error(t("studio.file_or_url"))
        return
    options = {"speaker": speaker, "resolution": resolution, "transcribe": transcribe}
    try:
        with st.spinner(t("studio.publishing")):
            if upload is not None:
                lecture = api.publish_upload(course, title.strip(), upload.name, upload.getvalue(), **options)
            else:
                lecture = api.publish_url(course, title.strip(), url, **options)
    except ApiError as error:
        show_error(error)
        return
    st.session_state[FOLLOW_KEY] = lecture["id"]
    st.success(t("studio.published", title=lecture["title"], id=lecture["id"]))


def _processing_list(api: StudioClient) -> None:
    """Lectures not ready yet (processing or failed), to follow one."""
    pending = [x for x in api.lectures() if x["status"] != "ready"]
    if not pending:
        return
    by_id = {x["id"]: x for x in pending}
    with st.expander(t("studio.pending_heading", count=len(pending))):
        chosen = st.selectbox(
            t("studio.field_lecture"),
            list(by_id),
            key="publish_pick",
            index=None,
            format_func=lambda i: f"{by_id[i]['title']} ({by_id[i]['status_label']})",
        )
        if chosen and st.button(t("studio.follow_button")):
            st.session_state[FOLLOW_KEY] = chosen


def step_line(step: Step) -> str:
    """One step as a line of text: icon, name, state (and percent while running)."""
    text = f"{ICONS[step.state]} {t(f'studio.step_{step.name}')}: {t(f'studio.state_{step.state}')}"
    return text + (f" — {step.percent:.0f}%" if step.state == StepState.RUNNING else "")


def _draw(api: StudioClient, lecture_id: str) -> bool:
    """Draw the followed lecture's steps; ``True`` once it is settled."""
    try:
        lecture = api.lecture(lecture_id)
    except ApiError as error:
        show_error(error)
        return True
    steps = lecture_steps(lecture)
    st.subheader(t("studio.following", title=lecture["title"]))
    st.caption(f"{lecture['status_label']} · {lecture['id']}")
    for step in steps:
        if step.state == StepState.RUNNING:
            st.progress(min(1.0, step.percent / 100), text=step_line(step))
        elif step.state == StepState.FAILED:
            st.error(f"{step_line(step)} — {step.error}")
        else:
            st.markdown(step_line(step))
    settled = is_settled(steps)
    if settled and lecture["status"] == "ready":
        st.success(t("studio.ready", title=lecture["title"]))
    return settled


def _follow(api: StudioClient, lecture_id: str) -> None:
    """Draw the steps, re-drawn every few seconds (a fragment) until nothing is left to wait for."""

    @st.fragment(run_every=POLL_SECONDS)
    def live() -> None:
        if _draw(api, lecture_id):
            st.session_state["publish_settled"] = lecture_id
            st.rerun()  # the whole page again, drawn once more without the timer

    if st.session_state.get("publish_settled") == lecture_id:
        _draw(api, lecture_id)
        if st.button(t("studio.refresh_button")):
            st.session_state.pop("publish_settled", None)
    else:
        live()
