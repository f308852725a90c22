"""The dashboards under Voila inside the real hub: a secretary's own server renders ``cell.ipynb``."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import sync_playwright

from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
from tests.browser import launch_chromium, log_in
from tests.hubserver import HubProcess, running_server

pytestmark = pytest.mark.hub
SECRETARY = "42000001"  # Chi bộ thôn Đông


def test_voila_renders_the_cell_dashboard_in_a_secretarys_server(hub: HubProcess) -> None:
    """Does /user/<secretary>/voila/render/cell.ipynb execute with the server's own token, show their cell's
    numbers, and load only the lab extensions a dashboard uses?"""
    with running_server(hub, SECRETARY, DEMO_PASSWORD) as token:
        headers = {"Authorization": f"token {token}"}
        page = httpx.get(f"{hub.url}user/{SECRETARY}/voila/render/cell.ipynb", headers=headers, timeout=300)
        assert page.status_code == 200, page.text[-2000:]
        assert "Traceback" not in page.text, page.text[-3000:]
        assert re.search(r"Hoàn thành \d+/\d+ đảng viên \(\d+%\)", page.text), page.text[-3000:]  # printed by the page
        assert t("api.login_required") not in page.text and t("dashboard.unreachable") not in page.text
        # the notebook's developer notes (a raw cell) stay in JupyterLab: the page opens on its Vietnamese title
        assert "JUPYTERHUB_API_TOKEN" not in page.text and "(cell dashboard)" not in page.text
        # hub_config/jupyter_server_config.py reached the server: only the widget manager's lab extension is sent
        # (the charts are SVG, so not plotly's 4.8 MB renderer), the page is Điểm Cầu's template, in Vietnamese
        assert "@jupyter-widgets/jupyterlab-manager" in page.text
        assert "jupyterlab-plotly" not in page.text and "@jupyter/nbgrader" not in page.text
        assert '<html lang="vi">' in page.text


COMMITTEE = "42000021"  # Cấp ủy xã Thạch Hà


def staff_page(browser, hub: HubProcess, card: str):  # type: ignore[no-untyped-def]
    """A 360×740 page logged in as ``card``, whose own server is started (the hub's spawn page, as a link does)."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    log_in(page, hub.url, card)
    page.goto(f"{hub.url}hub/spawn/{card}", timeout=300_000)
    page.wait_for_url("**/user/**", timeout=300_000)
    return page


@pytest.mark.browser
def test_a_dashboard_in_chromium_stays_inside_the_deployment_and_fits_a_phone(hub: HubProcess) -> None:
    """Opened in Chromium at 360 px, does the committee's page fetch nothing outside 127.0.0.1 (no Font Awesome,
    no MathJax CDN), arrive gzipped and without plotly's 4.8 MB renderer, draw one bar per sub-unit with
    Vietnamese dd/mm dates, never scroll the page sideways, and stop its kernel once closed?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = staff_page(browser, hub, COMMITTEE)
        requests, encodings = [], {}
        page.on("request", lambda request: requests.append(request.url))
        page.on("response", lambda response: encodings.update({response.url: response.headers.get("content-encoding")}))
        page.goto(f"{hub.url}user/{COMMITTEE}/voila/render/committee.ipynb", timeout=300_000)
        page.wait_for_selector("#rendered_cells .widget-html-content h3", state="visible", timeout=300_000)
        page.wait_for_load_state("networkidle")
        try:
            assert requests and [u for u in requests if not u.startswith("http://127.0.0.1:")] == []
            assert not [u for u in requests if "jupyterlab-plotly" in u or "fontawesome" in u.lower()]
            scripts = [u for u, enc in encodings.items() if "/voila/static/" in u and u.endswith(".js")]
            assert scripts and all(encodings[u] == "gzip" for u in scripts)
            bars = page.locator("figure.diemcau-chart").first
            labels = bars.locator("g.bar > text:first-child").all_text_contents()
            subunits = page.locator("h3:has-text('Đơn vị trực thuộc chậm nhất') + ol > li").all_inner_texts()
            # one bar per direct sub-unit, as many as the slowest-first list, each labelled with its own name
            assert len(labels) == len(subunits) >= 2 and len(set(labels)) == len(labels)
            assert all(any(item.startswith(label) for item in subunits) for label in labels)
            text = page.locator("#rendered_cells").inner_text()
            assert "Chi bộ thôn Đông" in text and re.search(r"\b\d\d/\d\d\b", text)
            assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", text)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            kernels = hub.api("GET", f"/users/{COMMITTEE}").json()["servers"][""]["url"]
            listing = f"{hub.url.rstrip('/')}{kernels}api/kernels"
            headers = {"Authorization": f"token {hub.token_for(COMMITTEE)}"}
            assert httpx.get(listing, headers=headers).json()
            page.close(run_before_unload=True)
            deadline = time.monotonic() + 30
            while httpx.get(listing, headers=headers).json() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert httpx.get(listing, headers=headers).json() == []  # the closed page's kernel is gone
        finally:
            browser.close()
            hub.api("DELETE", f"/users/{COMMITTEE}/server")


@pytest.mark.browser
def test_the_cell_table_scrolls_inside_its_box_at_360_px_and_the_page_is_vietnamese(hub: HubProcess) -> None:
    """On a 360 px phone, does the secretary's member table reflow into one card per member (nothing clipped,
    the page itself never wider than the screen), and are Voila's loading and error texts Vietnamese?"""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = staff_page(browser, hub, SECRETARY)
        try:
            source = httpx.get(
                f"{hub.url}user/{SECRETARY}/voila/render/cell.ipynb",
                timeout=300,
                headers={"Authorization": f"token {hub.token_for(SECRETARY)}"},
            ).text
            assert t("dashboard.voila_loading") in source and "Running " not in source and "Executing " not in source
            page.goto(f"{hub.url}user/{SECRETARY}/voila/render/cell.ipynb", timeout=300_000)
            page.wait_for_selector("#rendered_cells table", state="visible", timeout=300_000)
            # each member a card: every value (the deadline, what is left to do) inside the screen, under its
            # column's name, and the page never wider than the phone
            cells = page.locator("table.diemcau-cell td")
            assert cells.count() >= 7
            assert (
                page.evaluate(
                    "Math.max(...[...document.querySelectorAll('table.diemcau-cell td')]"
                    ".map(td => td.getBoundingClientRect().right))"
                )
                <= 360
            )
            assert cells.nth(5).evaluate("td => getComputedStyle(td, '::before').content") == '"Hạn: "'
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            missing = page.goto(f"{hub.url}user/{SECRETARY}/voila/render/khong-co.ipynb")
            assert missing is not None and missing.status == 404
            assert t("dashboard.voila_not_found") in page.content() and "cdn" not in page.content().lower()
            assert t("dashboard.voila_error_heading", status=404) in page.content()
        finally:
            browser.close()
            hub.api("DELETE", f"/users/{SECRETARY}/server")
