"""The dashboards under Voila inside the real hub: a secretary's own server renders ``cell.ipynb``."""

from __future__ import annotations

import re

import httpx
import pytest

from diemcau.demo.seed import DEMO_PASSWORD
from diemcau.i18n import t
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
        # hub_config/jupyter_server_config.py reached the server: nbgrader's lab extension is not sent to the page
        assert "jupyterlab-plotly" in page.text and "@jupyter/nbgrader" not in page.text
