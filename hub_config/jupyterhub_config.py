"""JupyterHub configuration for Điểm Cầu: everything follows from the settings file (see README).

Deployment-specific additions (LDAP/OAuth authenticators, KubeSpawner, TLS) go in
``jupyterhub_config.d/*.py`` beside this file; they are loaded last and may override anything.
"""

from pathlib import Path

from diemcau.apps.hub.config import HubPaths, apply_config
from diemcau.settings import load_settings

c = get_config()  # noqa: F821 (provided by JupyterHub)
here = Path(__file__).resolve().parent
apply_config(load_settings(), c, HubPaths.discover(here.parent))

for extra in sorted((here / "jupyterhub_config.d").glob("*.py")):
    load_subconfig(str(extra))  # noqa: F821
