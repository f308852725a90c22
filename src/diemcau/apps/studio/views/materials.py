"""Materials: attach the resolution text and slides (PDF, DOCX, PPTX) to a lecture, see what is attached.

The API stores the file at once and a background job reads its text and makes it searchable; a file whose bytes
show it unusable is refused with the reason, and the listing says, for each material, why it is not searchable
(still being read, a scan, past the reading bounds, locked or damaged: the API's Vietnamese ``note``).

Once a material with text is attached or replaced after the lecture was transcribed, the page offers to transcribe
it again (``/transcription``, issue 18: the new transcription uses the documents' vocabulary and is aligned to
them). Over trainers' corrections the API asks for a confirmation first; the corrections are re-applied.
"""

from __future__ import annotations

import streamlit as st

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.unsure import escape_markdown
from diemcau.apps.studio.views.common import pick_lecture, show_error, show_refusal, uploader
from diemcau.i18n import t

ACCEPTED = ["pdf", "docx", "pptx"]


def render(api: StudioClient) -> None:
    """The materials page."""
    st.header(t("studio.page_materials"))
    lecture = pick_lecture(api, "materials_lecture", ready_only=False)
    if lecture is None:
        return
    try:
        attached = api.materials(lecture["id"])
    except ApiError as error:
        show_refusal(error)
        return
    _listing(attached)
    _transcribe_again(api, lecture)
    with st.form("materials_form", clear_on_submit=True):
        upload = uploader(t("studio.field_material"), "material_file", t("studio.upload_hint_material"), type=ACCEPTED)
        replace = st.checkbox(t("studio.field_replace"))
        sent = st.form_submit_button(t("studio.attach_button"), type="primary")
    if sent:
        if upload is None:
            st.error(t("studio.material_required"))
            return
        try:
            attached = api.attach_material(lecture["id"], upload.name, upload.getvalue(), replace=replace)
        except ApiError as error:
            show_refusal(error)
            return
        st.success(attached.get("notice") or t("studio.material_attached", name=upload.name))


def _listing(attached: list[dict]) -> None:
    if not attached:
        st.info(t("studio.no_materials"))
        return
    for item in attached:
        details = [str(item[k]) for k in ("kind_label", "size_label") if item.get(k)]
        if item.get("pages"):
            details.append(t("studio.material_pages", pages=item["pages"]))
        if item.get("note"):
            details.append(item["note"])
        elif item.get("searchable") is False:
            details.append(t("studio.material_not_searchable"))
        st.markdown(f"- **{escape_markdown(item.get('name', ''))}** · {' · '.join(details)}")


CONFIRM_KEY = "materials_confirm_transcribe"  # lecture id → the API's reason, while its confirmation is awaited


def _transcribe_again(api: StudioClient, lecture: dict) -> None:
    """The offer to transcribe again, when a material changed after the transcript was made."""
    try:
        state = api.transcription(lecture["id"])
    except ApiError as error:
        show_refusal(error)
        return
    if state["status"] in ("queued", "running"):
        st.info(t("studio.transcribing_again"))
        return
    if not state.get("materials_changed_at"):
        return
    st.warning(t("studio.materials_changed"))
    confirming = st.session_state.get(CONFIRM_KEY, {}).get(lecture["id"])
    if confirming:
        st.warning(confirming)  # the API's reason: the corrections are kept and re-applied
    label = t("studio.transcribe_again_confirm" if confirming else "studio.transcribe_again")
    if st.button(label, key=f"transcribe-again-{lecture['id']}"):
        try:
            api.transcribe_again(lecture["id"], force=bool(confirming))
        except ApiError as error:
            if error.status == 409 and state.get("corrections") and not confirming:
                st.session_state.setdefault(CONFIRM_KEY, {})[lecture["id"]] = error.message
                st.rerun()
            show_error(error)
            return
        st.session_state.get(CONFIRM_KEY, {}).pop(lecture["id"], None)
        st.rerun()
