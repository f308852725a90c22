"""How a trainer's Jupyter server runs the studio: a jupyter-server-proxy entry named ``studio``.

jupyter-server-proxy starts ``streamlit run`` on the first request to ``/user/<name>/studio/`` (on a free
loopback port it picks, ``{port}``) and proxies to it, so the studio sits behind the single-user server's own
hub authentication: only the server's owner gets through. Streamlit is told the full prefix
(``--server.baseUrlPath``) and receives absolute paths (``absolute_url``), so its links and websocket work
behind the proxy. Why each flag is set, briefly:

* a key (``KEY_HEADER``): the studio acts with the trainer's own token, and its loopback port is open to
  every local process, another staff member's kernel included, which would bypass the hub's login. So each
  server draws a random key, gives it to Streamlit in its environment and adds it to every request it proxies;
  the studio uses the token only in a session whose request carried it (``came_through_proxy``). Streamlit
  1.67 cannot listen on a Unix socket, which would have closed the port instead;
* ``headless``, ``gatherUsageStats=false``: no browser to open, nothing sent anywhere;
* ``enableCORS=false``: the Jupyter server in front already refuses cross-origin websockets and requests
  (its own origin check), and Streamlit's check would compare against its loopback address and refuse the
  hub's public host;
* ``enableXsrfProtection=true``: uploads still need Streamlit's XSRF cookie and header (a same-origin page);
* ``fileWatcherType=none``, ``runOnSave=false``: the studio's code does not change under a running server;
* ``maxUploadSize``: lectures are large; the API enforces ``media.max_size_mb`` itself.
"""

from __future__ import annotations

import hmac
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SERVER_NAME = "studio"
APP_SCRIPT = Path(__file__).with_name("app.py")
MAX_UPLOAD_MB = 4096
START_TIMEOUT_SECONDS = 60.0
KEY_HEADER = "X-Diemcau-Studio-Key"
KEY_ENV = "DIEMCAU_STUDIO_KEY"


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


def server_proxy_entry(python: str = sys.executable, key: str = "") -> dict[str, Any]:
    """The ``c.ServerProxy.servers["studio"]`` entry, with ``key`` (a fresh random one if empty) in Streamlit's
    environment and on every proxied request."""
    key = key or secrets.token_urlsafe(32)
    return {
        "command": streamlit_command(python),
        "environment": {KEY_ENV: key},
        "request_headers_override": {KEY_HEADER: key},
        "absolute_url": True,
        "timeout": START_TIMEOUT_SECONDS,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "Studio Điểm Cầu"},
    }


def came_through_proxy(headers: Mapping[str, str], environ: Mapping[str, str]) -> bool:
    """Did this request come through the owner's Jupyter server (it carries the launch's key)? ``False`` when
    either side has no key."""
    expected, given = environ.get(KEY_ENV, ""), headers.get(KEY_HEADER, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())
