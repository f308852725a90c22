"""The hub on Kubernetes, run by the Zero to JupyterHub chart: the platform's part of ``apply_config`` for it.

``deploy/kubernetes/z2jh-values.yaml`` calls ``apply_kubernetes_config`` from ``hub.extraConfig``, which the chart's
own ``jupyterhub_config.py`` runs last. By then the chart has set, from the values: the network (hub and proxy in
pods of their own), the hub's database (PostgreSQL), its cookie secret, ``KubeSpawner`` with the staff pods' image,
user, limits and home volume, the idle culler and its role, and the ``diemcau`` service entry with its ``url`` and
the ``api_token`` from the chart's Secret. This adds what is the platform's own, with the same functions as on one
machine (``diemcau.apps.hub.config``), so the two cannot drift apart:

- the roster login on the app database of the settings (``DIEMCAU_DATABASE__URL`` in the hub's environment);
- the platform's roles beside the chart's culler role: members have no server scopes, so they never spawn;
- the API service's hub options (link, OAuth) on the chart's entry: the API runs as its own Deployment, never as a
  process of the hub;
- staff pods (``StaffPodSpawner``): the environment they get on one machine, with the API's in-cluster address,
  terminals for admins only, no service account token (docs/security/isolation.md);
- the Vietnamese pages.
"""

from __future__ import annotations

from kubespawner import KubeSpawner
from traitlets import List, Unicode
from traitlets.config import Config

from diemcau.apps.hub.config import (
    API_SERVICE_NAME,
    HubPaths,
    api_service_options,
    platform_roles,
    staff_notebook_dir,
    staff_server_environment,
    update_auth,
    update_pages,
)
from diemcau.apps.hub.spawner import terminal_args
from diemcau.core.roles import Role
from diemcau.settings import Settings


class StaffPodSpawner(KubeSpawner):
    """A staff member's server in a pod of its own (``KubeSpawner``, configured as such), with terminals off unless
    the member is in one of ``terminal_groups``, as ``IsolatedSpawner`` does on one machine."""

    terminal_groups = List(
        Unicode(),
        [f"role-{Role.ADMIN}"],
        help="Hub groups whose servers keep JupyterLab's terminals; others have none.",
    ).tag(config=True)

    def get_args(self) -> list[str]:
        """The usual arguments, plus terminals off unless the user is in one of ``terminal_groups``."""
        groups = {group.name for group in self.user.groups}
        return [*super().get_args(), *terminal_args(groups, self.terminal_groups)]


def _configured(section: Config, key: str, empty: object) -> object:
    """What the chart already set under ``key`` (a bare ``Config`` answers unset keys with a lazy value)."""
    return section.get(key, empty)


def update_roles_beside_chart(c: Config) -> None:
    """The platform's roles after those the chart defined (its idle culler's)."""
    c.JupyterHub.load_roles = [*_configured(c.JupyterHub, "load_roles", []), *platform_roles()]  # type: ignore[misc]


def update_api_service(c: Config) -> None:
    """The API service's hub options on the chart's ``diemcau`` entry, keeping its ``url`` and ``api_token``."""
    services = [dict(service) for service in _configured(c.JupyterHub, "services", [])]  # type: ignore[attr-defined]
    ours = [service for service in services if service.get("name") == API_SERVICE_NAME]
    if len(ours) != 1 or not ours[0].get("url"):
        raise ValueError(
            f"hub.services.{API_SERVICE_NAME} with a url (the API in the cluster) is missing from the chart's "
            "values: see deploy/kubernetes/z2jh-values.yaml."
        )
    ours[0].update(api_service_options())
    c.JupyterHub.services = services


def update_staff_pods(c: Config, paths: HubPaths, api_url: str) -> None:
    """Staff servers in pods: what they are told (the API's address, Voila's settings and template), where they
    open, which spawner, and no Kubernetes credentials in the pod."""
    c.JupyterHub.spawner_class = f"{__name__}.StaffPodSpawner"
    environment = dict(_configured(c.KubeSpawner, "environment", {}))  # type: ignore[call-overload]
    c.KubeSpawner.environment = {**environment, **staff_server_environment(paths, api_url)}
    c.KubeSpawner.notebook_dir = staff_notebook_dir(paths)
    c.KubeSpawner.default_url = "/lab"
    c.KubeSpawner.automount_service_account_token = False


def apply_kubernetes_config(settings: Settings, c: Config, paths: HubPaths, api_url: str) -> Config:
    """Set the platform's hub options on top of the chart's; ``api_url`` is the API's origin as staff pods reach
    it (e.g. ``http://diemcau-api:8090``). Returns ``c``."""
    if not settings.database.url:
        # Without it the roster would be an empty SQLite file inside the hub's pod: nobody could log in.
        raise ValueError(
            "database.url is not set in the hub's pod: give it DIEMCAU_DATABASE__URL from the diemcau Secret "
            "(hub.extraEnv in deploy/kubernetes/z2jh-values.yaml), the database the API and workers use."
        )
    update_auth(c, settings)
    update_roles_beside_chart(c)
    update_api_service(c)
    update_staff_pods(c, paths, api_url)
    update_pages(c, paths)
    return c
