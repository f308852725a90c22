"""How a trainer's Jupyter server runs the studio: a jupyter-server-proxy entry named ``studio``.

jupyter-server-proxy starts ``streamlit run`` on the first request to ``/user/<name>/studio/`` (on a free
loopback port it picks, ``{port}``) and proxies to it, so the studio sits behind the single-user server's own
hub authentication: only the server's owner gets through. Streamlit is told the full prefix
(``--server.baseUrlPath``) and receives absolute paths (``absolute_url``), so its links and websocket work
behind the proxy. Why each flag is set, briefly:

* ``headless``, ``gatherUsageStats=false``: no browser to open, nothing sent anywhere;
* ``enableCORS=false``: the Jupyter server in front already refuses cross-origin websockets and requests
  (its own origin check), and Streamlit's check would compare against its loopback address and refuse the
  hub's public host;
* ``enableXsrfProtection=true``: uploads still need Streamlit's XSRF cookie and header (a same-origin page);
* ``fileWatcherType=none``, ``runOnSave=false``: the studio's code does not change under a running server;
* ``maxUploadSize``: lectures are large; the API enforces ``media.max_size_mb`` itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

SERVER_NAME = "studio"
APP_SCRIPT = Path(__file__).with_name("app.py")
MAX_UPLOAD_MB = 4096
START_TIMEOUT_SECONDS = 60.0


def streamlit_command(python: str = sys.executable) -> list[str]:
    """The command line, with jupyter-server-proxy's ``{port}`` and ``{base_url}`` templates in it."""
    options = {
        "server.port": "{port}",
        "server.address": "127.0.0.1",
        "server.baseUrlPath": "{base_url}" + SERVER_NAME,
        "server.headless": "true",
        "browser.gatherUsageStats": "false",
        "server.enableCORS": "false",
        "server.enableXsrfProtection": "true",
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "server.maxUploadSize": str(MAX_UPLOAD_MB),
        "client.toolbarMode": "minimal",
        "theme.base": "light",
    }
    return [python, "-m", "streamlit", "run", str(APP_SCRIPT), *(f"--{key}={value}" for key, value in options.items())]


def server_proxy_entry(python: str = sys.executable) -> dict[str, Any]:
    """The ``c.ServerProxy.servers["studio"]`` entry."""
    return {
        "command": streamlit_command(python),
        "absolute_url": True,
        "timeout": START_TIMEOUT_SECONDS,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "Studio Điểm Cầu"},
    }
