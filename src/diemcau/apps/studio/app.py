"""The studio's Streamlit script: who is signed in, the page menu, and the page.

Run by jupyter-server-proxy in the trainer's own server (``launch.py``); the API client comes from that
server's environment, or — in tests — from ``st.session_state["studio_client"]`` set beforehand.
"""

from __future__ import annotations

import os

import streamlit as st

from diemcau.apps.studio.client import ApiError, StudioClient
from diemcau.apps.studio.launch import came_through_proxy
from diemcau.apps.studio.views import correct, inbox, materials, publish, quiz
from diemcau.i18n import t

CLIENT_KEY = "studio_client"
PAGES = {"publish": publish, "correct": correct, "materials": materials, "quiz": quiz, "inbox": inbox}
STUDIO_ROLES = frozenset({"trainer", "admin"})


def studio_client() -> StudioClient:
    """The session's API client, made once from the server's environment (the trainer's token), and only for a
    session that came through the trainer's own server, never for another local user on Streamlit's port."""
    if CLIENT_KEY not in st.session_state:
        if not came_through_proxy(st.context.headers, os.environ):
            raise ApiError(403, t("studio.open_through_server"))
        st.session_state[CLIENT_KEY] = StudioClient.from_env()
    return st.session_state[CLIENT_KEY]


def signed_in(api: StudioClient) -> dict:
    """The caller as the API knows them (asked once per session)."""
    if "studio_me" not in st.session_state:
        st.session_state["studio_me"] = api.me()
    return st.session_state["studio_me"]


def main() -> None:
    """Draw the studio."""
    st.set_page_config(page_title=t("studio.title"), page_icon="🎙️", layout="wide")
    try:
        api = studio_client()
        me = signed_in(api)
    except ApiError as error:
        st.error(error.message)
        st.stop()
    st.sidebar.title(t("studio.title"))
    st.sidebar.caption(t("studio.signed_in", name=me["full_name"], card=me["username"]))
    if not STUDIO_ROLES & set(me["roles"]):
        st.warning(t("studio.trainers_only"))
        st.stop()
    page = st.sidebar.radio(t("studio.menu"), list(PAGES), format_func=lambda key: t(f"studio.page_{key}"), key="page")
    PAGES[page].render(api)


main()
