"""Debian's Chromium driven by Playwright: never a downloaded browser."""

from __future__ import annotations

from pathlib import Path

from diemcau.demo.seed import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Launch headless Debian Chromium; fails with an instruction when it is not installed."""
    if not CHROMIUM.exists():
        raise RuntimeError("Chromium is missing: run `bash scripts/ensure_system.sh test` (make test does)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def log_in(page, hub_url: str, card: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log ``card`` in through the hub's login form and wait for the portal (or the page asked for)."""
    page.goto(f"{hub_url}hub/login")
    page.fill("#username_input", card)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"{hub_url}services/diemcau/**")


def watch_csp(target, seen: list[str] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """The Content-Security-Policy violations Chromium reports on ``target`` (a page or a browser context), as
    they come, appended to ``seen`` (a new list by default): a test asserts it stays empty, so a page whose
    script the policy blocks fails loudly."""
    seen = [] if seen is None else seen
    target.on(
        "console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None
    )
    return seen
