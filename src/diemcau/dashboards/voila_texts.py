"""The Vietnamese texts of Điểm Cầu's Voila template, from the message catalogue.

Voila's pages are Jinja templates that cannot call :func:`diemcau.i18n.t`, so the staff server's configuration
(``hub_config/jupyter_server_config.py``) hands them these texts: the notebook page reads them as
``resources.diemcau`` (``VoilaConfiguration.resources``), the error page as ``diemcau``
(``ServerApp.jinja_template_vars``). Placeholders the page fills itself stay as ``{done}``, ``{total}`` and
``{status}``.
"""

from __future__ import annotations

from diemcau.i18n import t

KEYS = ("loading", "cell_failed", "error_title", "not_found", "failed", "home")


def voila_texts() -> dict[str, str]:
    """The template's texts by name."""
    texts = {key: t(f"dashboard.voila_{key}") for key in KEYS}
    texts["computing"] = t("dashboard.voila_computing", done="{done}", total="{total}")
    texts["error_heading"] = t("dashboard.voila_error_heading", status="{status}")
    return texts
