"""The studio's file uploaders in real Chromium: Streamlit has no translations, so does ours read Vietnamese?

Streamlit runs the two uploaders of the studio (``views.common.uploader``, as the publish and materials pages call
it) with the studio's own flags, and a 360 px Chromium page looks at what a trainer would see.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from diemcau.apps.studio.launch import streamlit_command
from diemcau.i18n import t
from tests.browser import launch_chromium

pytestmark = pytest.mark.browser

PAGE = """\
import streamlit as st
from diemcau.apps.studio.views.common import uploader
from diemcau.i18n import t
with st.form("f"):
    uploader(t("studio.field_file"), "publish_file", t("studio.upload_hint_media"))
    uploader(t("studio.field_material"), "material_file", t("studio.upload_hint_material"), type=["pdf"])
    st.form_submit_button("Gửi")
"""
DRAGGED = "() => { const d = new DataTransfer(); d.items.add(new File(['%PDF'], 'nq57.pdf')); return d; }"
ENGLISH = ("Upload", "per file", "4GB", "Drag and drop", "Browse")
SEEN = """() => [...document.querySelectorAll('[data-testid=stFileUploaderDropzone]')].map(zone => {
  const shown = el => getComputedStyle(el).display !== 'none' && el.offsetParent !== null;
  const text = [...zone.querySelectorAll('*')].filter(el => shown(el) && [...el.childNodes].some(
      n => n.nodeType === 3 && n.textContent.trim())).map(el => el.textContent.trim());
  const after = el => getComputedStyle(el, '::after').content;
  return {text: text, button: after(zone.querySelector('button')),
          hint: after(zone.querySelector('[data-testid=stFileUploaderDropzoneInstructions]'))};
})"""


@pytest.fixture(scope="module")
def studio_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The uploaders under Streamlit, started with the studio's command line (its port and prefix filled in)."""
    script = tmp_path_factory.mktemp("uploader") / "page.py"
    script.write_text(PAGE, encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        part.replace("{port}", str(port)).replace("{base_url}", "/") for part in streamlit_command(sys.executable)
    ]
    command[command.index("run") + 1] = str(script)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/studio/"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_uploaders_speak_vietnamese(studio_page: str, tmp_path: Path) -> None:
    """On a 360 px page, does each uploader show the catalogue's button and hint, and none of Streamlit's English
    ("Upload", "4GB per file", "Drag and drop…"), also while a file is dragged over it, and once a file is chosen
    does its name show?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.goto(studio_page)
        page.wait_for_selector("[data-testid=stFileUploaderDropzone] button")
        zones = page.evaluate(SEEN)
        page.screenshot(path=str(tmp_path / "uploaders.png"), full_page=True)
        assert [z["hint"] for z in zones] == [
            f'"{t("studio.upload_hint_media")}"',
            f'"{t("studio.upload_hint_material")}"',
        ]
        assert all(z["button"] == f'"{t("studio.upload_button")}"' for z in zones)
        for zone in zones:
            assert not [line for line in zone["text"] if any(word in line for word in ENGLISH)], zone
        page.dispatch_event(
            "[data-testid=stFileUploaderDropzone] >> nth=1",
            "dragenter",
            {"dataTransfer": page.evaluate_handle(DRAGGED)},
        )
        overlay = "[data-testid=stFileUploaderDropzone] >> nth=1 >> :scope > div:not([data-testid])"
        page.wait_for_selector(overlay)
        dragging = page.evaluate(SEEN)[1]
        assert not [line for line in dragging["text"] if any(word in line for word in ENGLISH)], dragging
        assert page.locator(overlay).evaluate("el => getComputedStyle(el, '::after').content") == (
            f'"{t("studio.upload_drop")}"'
        )
        page.reload()  # a chosen file: its name shows (the drag-over rule must not hide the chip)
        page.wait_for_selector("[data-testid=stFileUploaderDropzone] button")
        chosen = tmp_path / "nq57.pdf"
        chosen.write_bytes(b"%PDF-1.4")
        page.locator("input[type=file]").nth(1).set_input_files(str(chosen))
        expect(page.locator("[data-testid=stFileChipName]", has_text="nq57.pdf")).to_be_visible()
        first = page.locator("[data-testid=stFileUploaderDropzone] >> nth=0 >> button")
        assert first.evaluate("el => getComputedStyle(el, '::after').content") == f'"{t("studio.upload_button")}"'
        browser.close()
