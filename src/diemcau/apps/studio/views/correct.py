"""Correct: the transcript segment by segment — hear it, fix its text or timing, save a new version.

Words Whisper was unsure of are highlighted, and "next unsure segment" jumps to where checking pays most.
Each save is one ``PATCH`` of the API, which keeps the edit as a version (``/transcript/history``).

Beside the segment, the words of the lecture's documents that are close to what Whisper wrote but were not put in
place (``/transcript/suggestions``, issue 18) are offered; accepting one saves the suggested text of each segment
it covers, an ordinary correction per segment.
"""

from __future__ import annotations

import subprocess

import streamlit as st

from diemcau.apps.studio import segment_audio
from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.unsure import escape_markdown, highlighted, is_unsure, next_unsure
from diemcau.apps.studio.views.common import pick_lecture, show_error
from diemcau.i18n import t

NUMBER_KEY = "correct_number"  # the segment shown, counted from 1
TIME_TOLERANCE = 0.0005  # seconds; the store keeps milliseconds


def clock(seconds: float) -> str:
    """``75.25`` → ``01:15.250``."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


def render(api: StudioClient) -> None:
    """The correction page."""
    st.header(t("studio.page_correct"))
    lecture = pick_lecture(api, "correct_lecture")
    if lecture is None:
        return
    try:
        transcript = _transcript(api, lecture["id"])
    except ApiError as error:
        show_error(error)
        return
    segments = transcript["segments"]
    if not segments:
        st.info(t("studio.no_segments"))
        return
    unsure = sum(is_unsure(s) for s in segments)
    st.caption(t("studio.unsure_summary", unsure=unsure, total=len(segments)))
    position = _navigation(segments)
    _segment(api, lecture, segments[position])


def _transcript(api: StudioClient, lecture_id: str, *, fresh: bool = False) -> dict:
    cache = st.session_state.setdefault("correct_transcripts", {})
    if fresh or lecture_id not in cache:
        cache[lecture_id] = api.transcript(lecture_id)
        st.session_state.setdefault("correct_suggestions", {}).pop(lecture_id, None)  # made from that transcript
    return cache[lecture_id]


def _forget(lecture_id: str) -> None:
    """Drop the lecture's transcript and suggestions read so far."""
    for cache in ("correct_transcripts", "correct_suggestions"):
        st.session_state.setdefault(cache, {}).pop(lecture_id, None)


def _lecture_suggestions(api: StudioClient, lecture_id: str) -> list[dict]:
    """The API's suggestions for the lecture (asked once per transcript read); none from an API without them."""
    cache = st.session_state.setdefault("correct_suggestions", {})
    if lecture_id not in cache:
        try:
            cache[lecture_id] = api.transcript_suggestions(lecture_id)
        except ApiError as error:
            if not error.missing_route:
                show_error(error)
            return []
    return cache[lecture_id]


def _suggestions(api: StudioClient, lecture: dict, segment: dict, key: str) -> None:
    """The documents' words offered for this segment, each with a button that saves them."""
    mine = [
        s
        for s in _lecture_suggestions(api, lecture["id"])
        if any(c["index"] == segment["index"] for c in s["segments"])
    ]
    for number, suggestion in enumerate(mine):
        text = next(c["text"] for c in suggestion["segments"] if c["index"] == segment["index"])
        others = len(suggestion["segments"]) - 1
        st.info(
            t(
                "studio.suggestion",
                sentence=escape_markdown(suggestion["sentence"]),
                text=escape_markdown(text),
                score=round(suggestion["score"]),
            )
            + (" " + t("studio.suggestion_spans", count=others) if others else "")
        )
        if st.button(t("studio.suggestion_accept"), key=f"suggest-{key}-{number}"):
            _accept(api, lecture, suggestion)


def _accept(api: StudioClient, lecture: dict, suggestion: dict) -> None:
    """Save the suggested text of every segment the suggestion covers (one correction each)."""
    current = {s["index"]: s["text"] for s in _transcript(api, lecture["id"])["segments"]}
    try:
        for change in suggestion["segments"]:
            if " ".join(change["text"].split()) != " ".join(current.get(change["index"], "").split()):
                api.correct_segment(lecture["id"], change["index"], text=change["text"])
    except ApiError as error:
        show_error(error)
        return
    finally:
        _forget(lecture["id"])  # read again on the next run, whatever was saved
    _saved(t("studio.suggestion_accepted"))


def _move(segments: list[dict], step: int) -> None:
    number = st.session_state.get(NUMBER_KEY, 1) + step
    st.session_state[NUMBER_KEY] = min(max(1, number), len(segments))


def _to_next_unsure(segments: list[dict]) -> None:
    found = next_unsure(segments, st.session_state.get(NUMBER_KEY, 1) - 1)
    if found is None:
        st.session_state["correct_notice"] = t("studio.no_unsure")
    else:
        st.session_state[NUMBER_KEY] = found + 1


def _navigation(segments: list[dict]) -> int:
    """Buttons and the segment number; returns the position shown."""
    if st.session_state.get(NUMBER_KEY, 1) > len(segments):
        st.session_state[NUMBER_KEY] = 1
    left, middle, right, last = st.columns([1, 1, 2, 2])
    left.button(t("studio.previous"), on_click=_move, args=(segments, -1), use_container_width=True)
    middle.button(t("studio.next"), on_click=_move, args=(segments, 1), use_container_width=True)
    right.button(t("studio.next_unsure"), on_click=_to_next_unsure, args=(segments,), use_container_width=True)
    number = last.number_input(t("studio.segment_number", total=len(segments)), 1, len(segments), key=NUMBER_KEY)
    if notice := st.session_state.pop("correct_notice", None):
        st.info(notice)
    return int(number) - 1


def _segment(api: StudioClient, lecture: dict, segment: dict) -> None:
    st.subheader(
        t(
            "studio.segment_heading",
            number=segment["index"] + 1,
            start=clock(segment["start"]),
            end=clock(segment["end"]),
        )
    )
    st.markdown(highlighted(segment))
    revision = st.session_state.get("correct_revision", 0)
    key = f"{lecture['id']}-{segment['index']}-{revision}"
    _suggestions(api, lecture, segment, key)
    _audio(api, lecture, segment)
    with st.form(f"correct-{key}"):
        text = st.text_area(t("studio.field_text"), value=segment["text"], key=f"text-{key}")
        start_col, end_col = st.columns(2)
        start = start_col.number_input(
            t("studio.field_start"),
            value=float(segment["start"]),
            min_value=0.0,
            step=0.1,
            format="%.3f",
            key=f"start-{key}",
        )
        end = end_col.number_input(
            t("studio.field_end"), value=float(segment["end"]), min_value=0.0, step=0.1, format="%.3f", key=f"end-{key}"
        )
        saved = st.form_submit_button(t("studio.save_button"), type="primary")
    if saved:
        _save(api, lecture, segment, text, start, end)
    if message := st.session_state.pop("correct_saved", None):
        st.success(message)
    _history(api, lecture, segment["index"])


def segment_changes(segment: dict, text: str, start: float, end: float) -> dict:
    """What the form changed: any of ``text``, ``start``, ``end``."""
    changes: dict = {}
    if " ".join(text.split()) != " ".join(segment["text"].split()):
        changes["text"] = text
    if abs(start - segment["start"]) > TIME_TOLERANCE:
        changes["start"] = round(start, 3)
    if abs(end - segment["end"]) > TIME_TOLERANCE:
        changes["end"] = round(end, 3)
    return changes


def _saved(message: str) -> None:
    """After a write: the form's fields are drawn afresh (a new revision key), ``message`` is shown, the page reruns."""
    st.session_state["correct_revision"] = st.session_state.get("correct_revision", 0) + 1
    st.session_state["correct_saved"] = message
    st.rerun()


def _save(api: StudioClient, lecture: dict, segment: dict, text: str, start: float, end: float) -> None:
    changes = segment_changes(segment, text, start, end)
    if not changes:
        st.info(t("studio.nothing_changed"))
        return
    try:
        api.correct_segment(lecture["id"], segment["index"], **changes)
        versions = [e for e in api.transcript_history(lecture["id"]) if e["segment_index"] == segment["index"]]
        _transcript(api, lecture["id"], fresh=True)
    except ApiError as error:
        show_error(error)
        return
    _saved(t("studio.saved", version=len(versions)))


def _audio(api: StudioClient, lecture: dict, segment: dict) -> None:
    try:
        audio = segment_audio.lecture_audio(api, lecture)
    except ApiError as error:
        show_error(error)
        return
    if audio is None:
        st.caption(t("studio.no_audio"))
        return
    if segment_audio.has_ffmpeg():
        try:
            st.audio(segment_audio.segment_wav(audio, segment["start"], segment["end"]), format="audio/wav")
            return
        except (subprocess.SubprocessError, OSError):
            pass  # fall back to the whole file from the segment's second
    st.audio(str(audio), format="audio/mp4", start_time=int(segment["start"]), end_time=int(segment["end"]) + 1)


def _history(api: StudioClient, lecture: dict, index: int) -> None:
    """The segment's versions; a correction the system made from the documents is marked, and while it is the
    segment's latest version it can be reverted."""
    try:
        edits = [e for e in api.transcript_history(lecture["id"]) if e["segment_index"] == index]
    except ApiError as error:
        show_error(error)
        return
    if not edits:
        return
    with st.expander(t("studio.history_heading", count=len(edits))):
        for number, edit in enumerate(edits, 1):
            before, after = escape_markdown(edit["before"]["text"]), escape_markdown(edit["after"]["text"])
            editor = t("studio.editor_system") if edit.get("system") else edit["editor"]
            st.markdown(
                t(
                    "studio.history_line",
                    version=number,
                    editor=escape_markdown(editor),
                    at=edit["at"][:16],
                    before=before,
                    after=after,
                )
            )
            in_place = number == len(edits)  # a later version replaced it: nothing of it left to revert
            if (
                edit.get("system")
                and in_place
                and st.button(t("studio.revert_button", version=number), key=f"revert-{edit['id']}")
            ):
                _revert(api, lecture, edit)


def _revert(api: StudioClient, lecture: dict, edit: dict) -> None:
    """Undo a correction through the API (the undo is the trainer's own correction)."""
    try:
        api.revert_edit(lecture["id"], edit["id"])
    except ApiError as error:
        show_error(error)
        return
    finally:
        _forget(lecture["id"])
    _saved(t("studio.reverted"))
