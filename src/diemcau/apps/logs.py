"""How the platform's long-running processes log: INFO and up to stderr, in JupyterHub's own line format, so the
hub's log and a service's read alike."""

from __future__ import annotations

import logging

FORMAT = "[%(levelname)s %(asctime)s %(name)s] %(message)s"


def log_to_stderr() -> None:
    """Send INFO and up to stderr (a no-op where logging is already configured)."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
