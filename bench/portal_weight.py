"""First-load weight of the member portal versus the stock JupyterHub home page, and of the staff home that
secretaries and committees land on, in real Chromium at 360 px.

Each page is loaded cold (cache disabled) by a logged-in user in the same run; the figure is the bytes on the
wire (Chromium's encodedDataLength, so after gzip) and the request count. The staff home is measured for the
demo's cell secretary (42000001) and commune committee (42000021) on the demo course.
Run: `make bench` or `.venv/bin/python bench/portal_weight.py`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from diemcau.demo.seed import DEMO_PASSWORD, seed_demo  # noqa: E402
from tests.browser import launch_chromium  # noqa: E402
from tests.hubserver import start_hub  # noqa: E402

BUDGET_BYTES = 300_000
STAFF_BUDGET_BYTES = 50_000  # issue 14: a secretary's first load on a 256 kbps link
STAFF = {"cell secretary": "42000001", "commune committee": "42000021"}


def cold_load(context, url: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Load ``url`` with the cache disabled; return (bytes on the wire, requests)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: list[float] = []
    cdp.on("Network.loadingFinished", lambda event: sizes.append(event["encodedDataLength"]))
    page.goto(url, wait_until="networkidle")
    page.close()
    return int(sum(sizes)), len(sizes)


def log_in(browser, url: str, card: str):  # type: ignore[no-untyped-def]
    """A 360×740 browser context logged in as ``card``."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    login = context.new_page()
    login.goto(f"{url}hub/login")
    login.fill("#username_input", card)
    login.fill("#password_input", DEMO_PASSWORD)
    login.click("#login_submit")
    login.wait_for_url(f"{url}services/diemcau/**")
    return context


def main() -> None:
    with contextlib.contextmanager(start_hub)(seed_demo) as hub:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            anonymous = browser.new_context(viewport={"width": 360, "height": 740})
            login_bytes, login_requests = cold_load(anonymous, f"{hub.url}hub/login")
            context = browser.new_context(viewport={"width": 360, "height": 740})
            login = context.new_page()
            login.goto(f"{hub.url}hub/login")
            login.fill("#username_input", "42000002")
            login.fill("#password_input", DEMO_PASSWORD)
            login.click("#login_submit")
            login.wait_for_url(f"{hub.url}services/diemcau/**")
            portal_bytes, portal_requests = cold_load(context, f"{hub.url}services/diemcau/")
            stock_bytes, stock_requests = cold_load(context, f"{hub.url}hub/home")
            staff = {
                role: cold_load(log_in(browser, hub.url, card), f"{hub.url}services/diemcau/")
                for role, card in STAFF.items()
            }
            browser.close()
    print(f"login page (cold):          {login_bytes / 1000:8.1f} KB in {login_requests} requests")
    print(
        f"member portal (cold):       {portal_bytes / 1000:8.1f} KB in {portal_requests} requests"
        f"  (budget {BUDGET_BYTES / 1000:.0f} KB: {'within' if portal_bytes <= BUDGET_BYTES else 'OVER'})"
    )
    print(f"baseline: stock hub home:   {stock_bytes / 1000:8.1f} KB in {stock_requests} requests")
    print(f"ratio baseline/portal:      {stock_bytes / portal_bytes:8.1f}x lighter")
    for role, (size, requests) in staff.items():
        verdict = "within" if size <= STAFF_BUDGET_BYTES else "OVER"
        print(
            f"staff home, {role + ' (cold):':21s}{size / 1000:6.1f} KB in {requests} requests"
            f"  (budget {STAFF_BUDGET_BYTES / 1000:.0f} KB: {verdict})"
        )


if __name__ == "__main__":
    main()
