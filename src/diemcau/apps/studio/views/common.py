"""What the studio's pages share: choosing a course or a lecture, uploading a file, showing the API's refusals."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.unsure import escape_markdown
from diemcau.i18n import t


def show_error(error: ApiError) -> None:
    """The API's Vietnamese reason, and each listed problem with its line and field."""
    st.error(error.message)
    for problem in error.problems:
        where = t("studio.problem_line", line=problem["line"]) if problem.get("line") else ""
        st.markdown(f"- `{problem.get('field', '')}` {where}: {escape_markdown(problem.get('message', ''))}")


def pick_course(api: StudioClient, key: str) -> str | None:
    """A course chosen from those the trainer may see; ``None`` when there is none."""
    courses = api.courses()
    if not courses:
        st.info(t("studio.no_courses"))
        return None
    titles = {c["id"]: c["title"] for c in courses}
    return st.selectbox(t("studio.field_course"), list(titles), format_func=lambda c: f"{titles[c]} ({c})", key=key)


def pick_lecture(api: StudioClient, key: str, *, ready_only: bool = True) -> dict | None:
    """A lecture chosen from those the trainer may see (only ready ones by default)."""
    lectures = [x for x in api.lectures() if x["status"] == "ready" or not ready_only]
    if not lectures:
        st.info(t("studio.no_lectures"))
        return None
    by_id = {x["id"]: x for x in lectures}
    chosen = st.selectbox(
        t("studio.field_lecture"),
        list(by_id),
        key=key,
        format_func=lambda i: f"{by_id[i]['title']} — {by_id[i]['course_id']} ({by_id[i]['status_label']})",
    )
    return by_id[chosen]


def show_refusal(error: ApiError) -> None:
    """Say "not there yet" for a route the API does not have; any other refusal as ``show_error``."""
    if error.missing_route:
        st.info(t("studio.not_available"))
    else:
        show_error(error)


def _css_text(text: str) -> str:
    """``text`` as a CSS string literal: quotes, backslashes, angle brackets and line ends as CSS escapes
    (``\\3c ``), so a catalogue text can neither end the string nor close the ``<style>`` element."""
    return '"' + "".join(f"\\{ord(c):x} " if c in '"\\<>\n\r' else c for c in text) + '"'


def uploader_css(key: str, hint: str) -> str:
    """The ``<style>`` that puts the uploader ``key`` in Vietnamese. Streamlit has no translations: its dropzone
    says "Upload", "Drag and drop a file here" and "4GB per file" (its own ``server.maxUploadSize``, not the
    limit the API enforces). The English is hidden and the catalogue's words are drawn in its place: the button's,
    the drag-over text's, and ``hint`` as the instructions. Streamlit marks a keyed widget ``st-key-<key>``."""
    root = f".st-key-{key} [data-testid='stFileUploaderDropzone']"
    instructions = f"{root} [data-testid='stFileUploaderDropzoneInstructions']"
    # Once a file is chosen, the dropzone holds its chip (name, size, remove) in a wrapper of the same shape as
    # the drag-over overlay, and buttons of its own: those are left as Streamlit draws them.
    chips = "[data-testid='stFileChips']"
    button = f"{root} button:not({chips} button, :has(+ {chips}), {chips} ~ button)"
    overlay = f"{root} > div:not([data-testid]):not(:has({chips}))"
    return (
        "<style>"
        f"{button} > * {{display: none}}"
        f"{button}::after {{content: {_css_text(t('studio.upload_button'))}}}"
        f"{instructions} > * {{display: none}}"
        f"{instructions}::after {{content: {_css_text(hint)}; font-size: 0.875rem; opacity: 0.8}}"
        f"{overlay} > * {{display: none}}"  # the overlay while a file is dragged over
        f"{overlay}::after {{content: {_css_text(t('studio.upload_drop'))}}}"
        "</style>"
    )


def uploader(label: str, key: str, hint: str, **options: object) -> UploadedFile | None:
    """``st.file_uploader`` in Vietnamese (``uploader_css``); ``hint`` says what to drop, from the catalogue. The
    size limit is the API's, which refuses a larger file with its Vietnamese reason."""
    st.markdown(uploader_css(key, hint), unsafe_allow_html=True)
    return st.file_uploader(label, key=key, **options)  # type: ignore[call-overload, no-any-return]
