"""Jupyter Server settings for staff servers (the hub puts this folder on their ``JUPYTER_CONFIG_PATH``).

Staff open the Voila dashboards at ``/user/<name>/voila/render/cell.ipynb`` (``committee.ipynb``,
``lecture.ipynb``, ``search.ipynb``); the server's root is the repository's ``notebooks/`` folder
(``c.Spawner.notebook_dir`` in ``diemcau.apps.hub.config.update_spawner``). Measured on voila 0.5.13
(docs/benchmarks.md):

* every installed JupyterLab extension loads on each Voila page, used or not — nbgrader's and the notebook
  app's cost ~220 KB of a 5.2 MB cold load — so the ones a dashboard never uses are denied here; the widget
  manager and plotly's renderer stay;
* leaving a Voila page did not shut its kernel (the shutdown call got a 403) and 14 kernels piled up: the
  ``diemcau`` template now posts the shutdown with the _xsrf header when the page goes away, and idle kernels
  are culled for the pages whose browser died: a dashboard kernel nobody is connected to is stopped after 10
  idle minutes. Connected kernels are left alone, so a page (or a JupyterLab notebook) still open keeps working;
  the hub's idle-culler stops the whole server after ``hub.cull_idle_seconds``;
* a page weighed 9 MB: plotly's lab renderer (4.8 MB, on every page), no gzip, Font Awesome and MathJax from
  public CDNs. Figures before and after: docs/benchmarks.md ("Voila dashboards in Chromium").

The trainer studio runs here too, through jupyter-server-proxy (``diemcau.apps.studio.launch``).
"""

c = get_config()  # noqa: F821 (provided by Jupyter)

# The trainer studio (Streamlit) at /user/<name>/studio/, behind this server's hub login; see docs/studio.md.
from diemcau.apps.studio.launch import SERVER_NAME, server_proxy_entry  # noqa: E402

c.ServerProxy.servers = {SERVER_NAME: server_proxy_entry()}

c.VoilaConfiguration.extension_denylist = [
    "@jupyter/nbgrader",  # the grading UI lives in the API's pages and JupyterLab, never in a dashboard
    "@jupyter-notebook/lab-extension",
    "@voila-dashboards/jupyterlab-preview",  # the preview button is a JupyterLab tool
    "jupyterlab-plotly",  # 4.8 MB on every page; the dashboards draw their charts as SVG (diemcau.dashboards.charts)
    "@jupyterhub/jupyter-server-proxy",  # the studio's launcher tile, a JupyterLab tool
    "jupyterlab_pygments",  # code highlighting; a dashboard shows no code
]

# Điểm Cầu's own template (hub_config/jupyter/voila/templates/diemcau, found through JUPYTER_PATH, set by the
# spawner): the lab template without Font Awesome from a CDN, with Vietnamese loading and error texts and
# styles for a 360 px phone.
c.VoilaConfiguration.template = "diemcau"
# Its texts come from the message catalogue: the notebook page reads resources.diemcau, the error page diemcau.
from diemcau.dashboards.voila_texts import voila_texts  # noqa: E402

c.VoilaConfiguration.resources = {"diemcau": voila_texts()}
c.ServerApp.jinja_template_vars = {"diemcau": voila_texts()}

# Nothing from outside the deployment: with both set to the string "null", Voila's page uses the MathJax that
# its own bundle carries (loaded only if a page has math) instead of cdnjs.cloudflare.com. Gzip every response
# (tornado's compress_response; Voila's own setting of that name has no effect when it runs inside a server).
c.ServerApp.tornado_settings = {"mathjax_url": "null", "mathjax_config": "null", "compress_response": True}

c.MappingKernelManager.cull_idle_timeout = 600  # seconds idle before a kernel is stopped
c.MappingKernelManager.cull_interval = 60  # how often idle kernels are looked for
c.MappingKernelManager.cull_connected = False  # a page still open keeps its kernel
c.MappingKernelManager.cull_busy = False

c.VoilaExporter.language_code = "vi"  # <html lang="vi">: the pages are Vietnamese
