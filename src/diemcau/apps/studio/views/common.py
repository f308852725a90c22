"""What the studio's pages share: choosing a course or a lecture, and showing the API's refusals."""

from __future__ import annotations

import streamlit as st

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
        t("studio.field_lecture"), list(by_id), key=key,
        format_func=lambda i: f"{by_id[i]['title']} — {by_id[i]['course_id']} ({by_id[i]['status_label']})",
    )  # fmt: skip
    return by_id[chosen]


def route_missing_notice(error: ApiError) -> bool:
    """Say "not there yet" for a route the API does not have; ``False`` for any other error."""
    if error.missing_route:
        st.info(t("studio.not_available"))
        return True
    return False
