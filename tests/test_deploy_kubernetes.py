"""The Kubernetes deployment as shipped (deploy/): manifests valid for Kubernetes, and agreeing with the code.

No cluster, helm or image build here (none is on this machine): the manifests are validated against the Kubernetes
API schemas with ``kubernetes-validate`` (strict: an unknown field fails), and every name they share with the code
(settings, the health route, CLI commands, ports, the hub's config, the image) is checked against the code itself.
The Zero to JupyterHub values were checked once by hand against the chart's values schema (docs/deploy-kubernetes.md).
"""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import importlib.util
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from sqlalchemy import create_engine, text
from traitlets.config import Config
from typer.testing import CliRunner

from diemcau.adapters.db.engine import ensure_schema, make_engine
from diemcau.apps.api.__main__ import bind_address
from diemcau.apps.api.app import create_app
from diemcau.apps.cli import app as cli
from diemcau.apps.hub.config import API_SERVICE_NAME, platform_roles
from diemcau.apps.hub.kubernetes import StaffPodSpawner
from diemcau.apps.hub.spawner import NO_TERMINALS
from diemcau.settings import HubSettings, Settings, SettingsError, build_settings
from tests.fakes import StaticTokenIdentity

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"
CONTAINERFILE = ROOT / "deploy" / "image" / "Containerfile"
VALUES = KUBE / "z2jh-values.yaml"
NOT_RESOURCES = {"kustomization.yaml", "z2jh-values.yaml"}
# The oldest Kubernetes the deployment supports (Zero to JupyterHub 4.4.0 asks for >= 1.28, its development branch
# for >= 1.32: we say 1.32) and the newest kubernetes-validate 1.37.0 knows.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
IMAGE_UID = 1000
SETTINGS_ENV_OUTSIDE_SECTIONS = {"DIEMCAU_HOME", "DIEMCAU_CONFIG"}  # read by load_settings itself
CHART_CULLER_ROLE = {"name": "jupyterhub-idle-culler", "services": ["jupyterhub-idle-culler"], "scopes": []}


def resources() -> list[dict[str, Any]]:
    """Every Kubernetes object under deploy/kubernetes/, in file order."""
    found = []
    for path in sorted(KUBE.glob("*.yaml")):
        if path.name not in NOT_RESOURCES:
            found += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return found


def named(kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in resources() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


def pod_specs() -> dict[str, dict[str, Any]]:
    """The pod spec of each Deployment and Job, by name."""
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in resources()
        if doc["kind"] in ("Deployment", "Job")
    }


def env_of(name: str) -> dict[str, Any]:
    """The first container's environment of workload ``name``: literal values, or the valueFrom mapping."""
    container = pod_specs()[name]["containers"][0]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def all_diemcau_env() -> list[tuple[str, Any]]:
    """Every DIEMCAU_* variable the deployment sets: manifests and the hub's extraEnv."""
    pairs = [(name, value) for spec in pod_specs() for name, value in env_of(spec).items()]
    for name, value in values()["hub"]["extraEnv"].items():  # the chart's notation: a value, or an EnvVar's fields
        pairs.append((name, value.get("value", value.get("valueFrom")) if isinstance(value, dict) else value))
    return [(name, value) for name, value in pairs if name.startswith("DIEMCAU_")]


# ---- Kubernetes validity ----


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_a_valid_kubernetes_object(version: str) -> None:
    """Is every object under deploy/kubernetes/ valid for the pinned Kubernetes versions, unknown fields refused?"""
    found = resources()
    assert {doc["kind"] for doc in found} >= {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}
    for doc in found:
        kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_refuses_a_misspelt_field() -> None:
    """Would a typo in a manifest (``replica`` for ``replicas``, a field in the wrong place) fail the check above?"""
    deployment = copy.deepcopy(named("Deployment", "diemcau-api"))
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    container = copy.deepcopy(named("Deployment", "diemcau-worker"))
    container["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(container, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_job() -> None:
    """Does ``kubectl apply -k`` take every manifest (the migration Job on its own), and name the image we build?"""
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests = {path.name for path in KUBE.glob("*.yaml")} - NOT_RESOURCES - {"migrate-job.yaml"}
    assert set(kustomization["resources"]) == manifests
    (image,) = kustomization["images"]
    ours = {c["image"] for spec in pod_specs().values() for c in spec["containers"] if "nginx" not in c["image"]}
    assert ours - {f"{image['newName']}:{image['newTag']}"} == {image["name"]}  # the Job names the image itself
    assert named("Job", "diemcau-migrate")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"{image['newName']}:{image['newTag']}"
    )
    assert values()["hub"]["image"] == values()["singleuser"]["image"] == {"name": image["newName"], "tag": "0.1.0"}
    assert image["newTag"] == "0.1.0"


# ---- agreement with the code ----


def test_every_diemcau_variable_is_a_setting_with_a_valid_value() -> None:
    """Does every DIEMCAU_* variable of the manifests and the hub name a real setting, and every literal value pass
    the settings' validation (a typo would silently fall back to a default)?"""
    found = all_diemcau_env()
    assert {"DIEMCAU_DATABASE__URL", "DIEMCAU_JOBS__BACKEND", "DIEMCAU_JOBS__REDIS_URL"} <= {n for n, _ in found}
    for name, value in found:
        if name in SETTINGS_ENV_OUTSIDE_SECTIONS:
            continue
        section, _, key = name.removeprefix("DIEMCAU_").lower().partition("__")
        field = Settings.model_fields.get(section)
        assert field is not None and key in field.annotation.model_fields, f"{name} is no setting"  # type: ignore[union-attr]
        if isinstance(value, str):
            build_settings({}, {name: value}, Path("/srv/diemcau/var"), "manifest")


def test_the_settings_check_catches_a_misspelt_variable() -> None:
    """Would a variable naming no setting, or a bad value, be caught by the rules the test above applies?"""
    with pytest.raises(SettingsError):
        build_settings({}, {"DIEMCAU_JOBS__BACKEND": "redsi"}, Path("/srv"), "manifest")
    assert "backnd" not in Settings.model_fields["jobs"].annotation.model_fields  # type: ignore[union-attr]


def test_secrets_are_referenced_never_written() -> None:
    """Is every password-bearing URL taken from a Secret, and no Secret or password literal in the repository?"""
    assert not [doc for doc in resources() if doc["kind"] == "Secret"]
    for name, value in all_diemcau_env():
        if name.endswith("_URL"):
            assert isinstance(value, dict) and "secretKeyRef" in value, name
    credentials = re.compile(r"://[^/\s@]*:[^/\s@]*@")
    for path in KUBE.glob("*.yaml"):
        assert not credentials.search(path.read_text(encoding="utf-8")), path.name
    assert "password" not in values()["hub"]["db"]
    assert env_of("diemcau-api")["JUPYTERHUB_API_TOKEN"] == {
        "secretKeyRef": {"name": "hub", "key": f"hub.services.{API_SERVICE_NAME}.apiToken"}
    }


def test_the_probes_ask_the_apis_public_health_route(settings: Settings, sqlite_factory) -> None:
    """Do the API's probes name its health route under the prefix its environment gives, on the port it binds,
    and does that route answer 200 with no login?"""
    env = env_of("diemcau-api")
    host, port = bind_address(env["JUPYTERHUB_SERVICE_URL"], settings.hub.api_port)
    assert host == "0.0.0.0" and port == int(env["DIEMCAU_HUB__API_PORT"])
    container = pod_specs()["diemcau-api"]["containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": port}
    app = create_app(
        settings, StaticTokenIdentity({}), session_factory=sqlite_factory, prefix=env["JUPYTERHUB_SERVICE_PREFIX"]
    )
    client = TestClient(app)
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
        assert client.get(container[probe]["httpGet"]["path"]).status_code == 200
    assert client.get(env["JUPYTERHUB_SERVICE_PREFIX"] + "api/me").status_code == 401  # the prefix is the API's


def test_the_workloads_run_commands_that_exist() -> None:
    """Do the worker and the migration Job run real CLI commands, and the API a real module?"""
    specs = pod_specs()
    runner = CliRunner()
    for name in ("diemcau-worker", "diemcau-migrate"):
        program, *command = specs[name]["containers"][0]["args"]
        assert program == "diemcau"  # [project.scripts]
        assert runner.invoke(cli, [*command, "--help"]).exit_code == 0, name
    assert specs["diemcau-worker"]["containers"][0]["args"] == ["diemcau", "worker"]
    assert specs["diemcau-api"]["containers"][0]["args"][:2] == ["python", "-m"]
    assert importlib.util.find_spec(specs["diemcau-api"]["containers"][0]["args"][2] + ".__main__") is not None


def test_services_ports_and_addresses_agree() -> None:
    """Do the Services, the hub's service URL, the staff pods' API address, the ingress and the network policies
    name the same ports and pods?"""
    api, nginx = named("Service", "diemcau-api"), named("Service", "diemcau-nginx")
    for service, workload in ((api, "diemcau-api"), (nginx, "diemcau-nginx")):
        template = named("Deployment", workload)["spec"]["template"]
        assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
        ports = {p["name"]: p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"] and "http" in ports
    api_port, nginx_port = api["spec"]["ports"][0]["port"], nginx["spec"]["ports"][0]["port"]
    hub_service = urlsplit(values()["hub"]["services"][API_SERVICE_NAME]["url"])
    assert (hub_service.hostname, hub_service.port) == ("diemcau-nginx", nginx_port)
    assert f'"http://diemcau-api:{api_port}"' in values()["hub"]["extraConfig"]["diemcau"]
    assert urlsplit(env_of("diemcau-api")["JUPYTERHUB_API_URL"]).port == 8081  # the chart's hub Service
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in named("Ingress", "diemcau")["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths == {f"/services/{API_SERVICE_NAME}/": "diemcau-nginx", "/": "proxy-public"}
    api_policy = named("NetworkPolicy", "diemcau-api")["spec"]
    assert [p["port"] for p in api_policy["ingress"][0]["ports"]] == [api_port]
    staff_egress = values()["singleuser"]["networkPolicy"]["egress"][0]
    api_labels = named("Deployment", "diemcau-api")["spec"]["template"]["metadata"]["labels"]
    assert staff_egress["to"][0]["podSelector"]["matchLabels"].items() <= api_labels.items()
    assert [p["port"] for p in staff_egress["ports"]] == [api_port]
    assert api_labels["hub.jupyter.org/network-access-hub"] == "true"  # the chart's hub policy admits it


def test_nginx_is_rendered_for_every_api_pod_as_the_guide_says(tmp_path: Path) -> None:
    """Does the guide's `diemcau deploy nginx-config` command render, naming the headless Service of the API pods
    (selecting them, on their port) with `resolve` and the cluster's DNS, the nginx pods' media mount, and the
    chart's proxy?"""
    guide = (ROOT / "docs" / "deploy-kubernetes.md").read_text("utf-8")
    command = re.search(r"^diemcau deploy nginx-config (.*?) > diemcau-nginx\.conf$", guide, re.M | re.S)
    assert command is not None
    args = ["deploy", "nginx-config", *command.group(1).replace("\\\n", " ").split()]
    result = CliRunner().invoke(cli, args, env={"DIEMCAU_HOME": str(tmp_path)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pods, deployment = named("Service", "diemcau-api-pods"), named("Deployment", "diemcau-api")
    assert pods["spec"]["clusterIP"] == "None"  # headless: one address per ready pod
    assert pods["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    port = pods["spec"]["ports"][0]["port"]
    server = f"server diemcau-api-pods.diemcau.svc.cluster.local:{port} max_fails=2 fail_timeout=10s resolve;"
    assert server in result.stdout and "resolver kube-dns.kube-system.svc.cluster.local valid=10s;" in result.stdout
    mounts = named("Deployment", "diemcau-nginx")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert f"root {next(m['mountPath'] for m in mounts if m['name'] == 'data')};" in result.stdout
    assert "proxy_pass http://proxy-public:80;" in result.stdout


def test_every_pod_runs_unprivileged() -> None:
    """Does every pod of ours run as the image's non-root user, without a service account token, privilege
    escalation, capabilities or a writable root filesystem, and within resource limits?"""
    for name, spec in pod_specs().items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == IMAGE_UID
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), name
    for name in ("diemcau-api", "diemcau-nginx"):
        assert named("PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


def test_every_pod_of_ours_is_fenced_by_a_network_policy() -> None:
    """Is each of our workloads selected by a NetworkPolicy for both directions (all else refused)?"""
    policies = [doc["spec"] for doc in resources() if doc["kind"] == "NetworkPolicy"]
    for name in pod_specs():
        labels = named("Deployment" if name != "diemcau-migrate" else "Job", name)["spec"]["template"]["metadata"]
        fencing = [p for p in policies if p["podSelector"]["matchLabels"].items() <= labels["labels"].items()]
        assert fencing and all(set(p["policyTypes"]) == {"Ingress", "Egress"} for p in fencing), name


# ---- the image ----


def containerfile_stages() -> list[list[str]]:
    """The Containerfile's instructions (continuation lines joined), split into build stages."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    stages: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("FROM ") and stages[-1] and any(s.startswith("FROM ") for s in stages[-1]):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_image_is_pinned_unprivileged_and_without_build_tools() -> None:
    """Is the base image pinned (a versioned tag or a digest, never latest), does the final stage run as a
    non-root user with no compiler, headers or npm, set no DIEMCAU_* variable (staff pods run it too), and
    install the project without its test extras?"""
    stages = containerfile_stages()
    (base,) = [line.split("=", 1)[1] for line in stages[0] if line.startswith("ARG DEBIAN_IMAGE=")]
    assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+-slim(@sha256:[0-9a-f]{64})?|[\w./-]+@sha256:[0-9a-f]{64}", base), base
    assert "latest" not in CONTAINERFILE.read_text(encoding="utf-8")
    assert all(line.split()[1] == "${DEBIAN_IMAGE}" for stage in stages for line in stage if line.startswith("FROM"))
    final = stages[-1]
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user.split(":")[0] == str(IMAGE_UID)
    installs = " ".join(line for line in final if "apt-get install" in line)
    for tool in ("build-essential", "gcc", "-dev", "npm", "nodejs", "python3-venv"):
        assert tool not in installs, tool
    assert not [line for line in final if line.startswith("ENV") and "DIEMCAU_" in line]
    pip = " ".join(line for stage in stages for line in stage if "pip install" in line)
    assert "'.[kubernetes]'" in pip and "test" not in pip
    assert "STOPSIGNAL SIGINT" in final and any(line.startswith("ENTRYPOINT") and "tini" in line for line in final)


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Is ``path`` left out of the build context by these .dockerignore patterns (the last match wins; a pattern
    matching a parent folder matches its contents)?"""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negated, glob = pattern.startswith("!"), pattern.lstrip("!").rstrip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_the_build_context_keeps_state_and_secrets_out() -> None:
    """Does .dockerignore keep the data directory, venv, git history and a deployment's hub secrets out of the
    image, while the code, notebooks and hub pages go in?"""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for left_out in (
        "var/diemcau.toml",
        ".venv/bin/python",
        ".git/config",
        "node_modules/hls.js/package.json",
        "hub_config/jupyterhub_config.d/ldap.py",
        "tests/conftest.py",
        "src/diemcau/__pycache__/settings.cpython-311.pyc",
    ):
        assert docker_ignored(left_out, patterns), left_out
    for kept in (
        "src/diemcau/settings.py",
        "notebooks/cell.ipynb",
        "hub_config/templates/login.html",
        "hub_config/jupyterhub_config.d/README.md",
        "pyproject.toml",
        "package-lock.json",
    ):
        assert not docker_ignored(kept, patterns), kept


# ---- the hub under the chart ----


def config_as_the_chart_leaves_it(chart_values: dict[str, Any]) -> Config:
    """The parts of Zero to JupyterHub 4.4.0's own jupyterhub_config.py that ours builds on, from the values: the
    services from hub.services (name from the key, api_token from its Secret), the culler's role, KubeSpawner's
    image, user and command, then the hub.config sections passed through. (A stand-in at the edge: the chart's
    file itself is not in this repository.)"""
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    services = []
    for key, service in chart_values["hub"]["services"].items():
        services.append({**service, "name": key, "api_token": "from-the-chart-secret"})
    c.JupyterHub.services = [{"name": "jupyterhub-idle-culler", "command": ["python3", "-m", "x"]}, *services]
    c.JupyterHub.load_roles = [dict(CHART_CULLER_ROLE)]
    single = chart_values["singleuser"]
    c.KubeSpawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    c.KubeSpawner.uid, c.KubeSpawner.fs_gid, c.Spawner.cmd = single["uid"], single["fsGid"], single["cmd"]
    for section, options in chart_values["hub"]["config"].items():
        c[section].update(options)
    return c


def hub_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chart_values: dict[str, Any]) -> Config:
    """Run the values' hub.extraConfig as the chart does, with the hub pod's environment."""
    monkeypatch.setenv("DIEMCAU_HOME", str(tmp_path))
    c = config_as_the_chart_leaves_it(chart_values)
    for snippet in chart_values["hub"]["extraConfig"].values():
        exec(snippet, {"c": c})  # noqa: S102 (what the chart does with hub.extraConfig)
    return c


@pytest.fixture
def kube_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Config:
    """The hub's config as the values make it, the app database given as the hub's extraEnv gives it."""
    monkeypatch.setenv("DIEMCAU_DATABASE__URL", "postgresql+psycopg://diemcau@postgres.example.internal/diemcau")
    return hub_config(monkeypatch, tmp_path, values())


def test_the_hub_logs_in_from_the_roster_and_members_never_spawn(kube_hub: Config) -> None:
    """Does the chart's hub use the roster login on the platform's database, keep the chart's culler role, and give
    members no server scope while staff groups get their own server?"""
    assert kube_hub.JupyterHub.authenticator_class == values()["hub"]["config"]["JupyterHub"]["authenticator_class"]
    assert kube_hub.RosterAuthenticator.database_url.startswith("postgresql+psycopg://")
    roles = {role["name"]: role for role in kube_hub.JupyterHub.load_roles}
    assert roles["jupyterhub-idle-culler"] == CHART_CULLER_ROLE
    assert set(roles) == {"jupyterhub-idle-culler", *(role["name"] for role in platform_roles())}
    assert not any("server" in scope or scope == "self" for scope in roles["user"]["scopes"])
    assert roles["diemcau-staff"]["scopes"] == ["self"]


def test_the_api_is_an_external_service_with_the_platforms_options(kube_hub: Config) -> None:
    """Is the API the hub's service at the values' URL with the chart's token, with no command of the hub's?"""
    services = {service["name"]: service for service in kube_hub.JupyterHub.services}
    api = services[API_SERVICE_NAME]
    assert api["url"] == values()["hub"]["services"][API_SERVICE_NAME]["url"]
    assert api["api_token"] == "from-the-chart-secret" and "command" not in api
    assert api["oauth_no_confirm"] is True and api["oauth_client_allowed_scopes"]
    assert "jupyterhub-idle-culler" in services


def test_the_hub_refuses_to_start_without_the_platforms_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Does a hub pod missing DIEMCAU_DATABASE__URL, or values missing the API's service URL, stop with a message
    naming what to set, instead of logging members in against an empty SQLite file?"""
    monkeypatch.delenv("DIEMCAU_DATABASE__URL", raising=False)
    with pytest.raises(ValueError, match="DIEMCAU_DATABASE__URL"):
        hub_config(monkeypatch, tmp_path, values())
    monkeypatch.setenv("DIEMCAU_DATABASE__URL", "postgresql+psycopg://diemcau@db/diemcau")
    without_url = values()
    without_url["hub"]["services"][API_SERVICE_NAME] = {}
    with pytest.raises(ValueError, match=f"hub.services.{API_SERVICE_NAME}"):
        hub_config(monkeypatch, tmp_path, without_url)


def test_every_kubespawner_option_is_a_real_trait(kube_hub: Config) -> None:
    """Is every KubeSpawner option that the values or our code set a configurable trait of the staff spawner (an
    unknown one would only be a warning in the hub's log)?"""
    traits = set(StaffPodSpawner.class_trait_names(config=True))
    assert set(kube_hub.KubeSpawner) <= traits
    assert "terminal_groups" in traits and kube_hub.JupyterHub.spawner_class.endswith(".StaffPodSpawner")


def staff_pod(kube_hub: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, groups: list[str]) -> dict:
    """The pod manifest (as sent to Kubernetes) KubeSpawner would create for a staff member in ``groups`` (no cluster: a kubeconfig
    naming an unreachable API server, which building a manifest never calls)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        ),
        encoding="utf-8",
    )
    # KUBECONFIG is read when kubernetes_asyncio is imported, so its default location is what to point here.
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    user = SimpleNamespace(
        name="42000001",
        id=1,
        url="/user/42000001/",
        escaped_name="42000001",
        groups=[SimpleNamespace(name=g) for g in groups],
    )

    async def manifest() -> dict:
        pod = await StaffPodSpawner(config=kube_hub, user=user, _mock=True).get_pod_manifest()
        async with ApiClient() as api:  # its serialiser, as the spawner sends the pod (no request made)
            return api.sanitize_for_serialization(pod)

    return asyncio.run(manifest())


def test_a_staff_pod_is_the_isolation_boundary(kube_hub: Config, tmp_path: Path, monkeypatch) -> None:
    """Is a secretary's pod a valid Pod that runs the image as its non-root user, without privilege, service account
    token or terminals, knowing no DIEMCAU_* variable but the API's address, while an admin's pod keeps terminals?"""
    pod = staff_pod(kube_hub, tmp_path, monkeypatch, ["role-secretary", "org-cb-thon-dong"])
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(pod, version, strict=True)
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "registry.example.vn/diemcau:0.1.0"
    assert container["args"] == ["jupyterhub-singleuser", NO_TERMINALS]
    context = container["securityContext"]
    assert (context["runAsUser"], context["runAsNonRoot"], context["allowPrivilegeEscalation"]) == (
        IMAGE_UID,
        True,
        False,
    )
    assert context["capabilities"]["drop"] == ["ALL"]
    assert pod["spec"]["automountServiceAccountToken"] is False
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert [name for name in env if name.startswith("DIEMCAU_")] == ["DIEMCAU_API_URL"]
    assert env["DIEMCAU_API_URL"] == f"http://diemcau-api:8090/services/{API_SERVICE_NAME}"
    assert env["JUPYTER_CONFIG_PATH"] == "/srv/diemcau/hub_config"
    admin = staff_pod(kube_hub, tmp_path, monkeypatch, ["role-admin"])
    assert NO_TERMINALS not in admin["spec"]["containers"][0]["args"]


def test_the_values_agree_with_the_settings_and_the_image() -> None:
    """Do the chart's culler timeout, the staff pods' user and home match the settings' default and the image?"""
    chart = values()
    assert chart["cull"]["enabled"] is True and chart["cull"]["timeout"] == HubSettings().cull_idle_seconds
    assert chart["cull"]["users"] is False
    single = chart["singleuser"]
    assert single["uid"] == single["fsGid"] == IMAGE_UID
    assert chart["hub"]["config"]["KubeSpawner"]["container_security_context"]["runAsUser"] == IMAGE_UID
    assert single["storage"]["homeMountPath"] == "/home/diemcau"
    assert "--home-dir /home/diemcau" in CONTAINERFILE.read_text(encoding="utf-8")
    assert chart["hub"]["db"]["type"] == "postgres" and single["networkPolicy"]["enabled"] is True
    rules = single["networkPolicy"]["egressAllowRules"]
    assert not (rules["privateIPs"] or rules["nonPrivateIPs"] or rules["cloudMetadataServer"])


# ---- N replicas on one database ----


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_replicas_starting_together_all_come_up(db_url: str) -> None:
    """Do four API processes starting at once on an empty PostgreSQL database all get through their start-up
    migration (one migrates, the others wait for it and find the schema current), as N replicas of a Deployment
    do when nobody ran the migration Job first?"""
    # A lock wait bounded (far beyond a migration's second or two), so that a regression fails instead of hanging.
    engines = [create_engine(db_url, connect_args={"options": "-c lock_timeout=60s"}) for _ in range(4)]
    engine = make_engine(db_url)
    start = threading.Barrier(len(engines))

    def start_up(replica: Any) -> None:
        start.wait()
        ensure_schema(replica)

    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            for outcome in [pool.submit(start_up, replica) for replica in engines]:
                outcome.result()  # a replica that failed its migration raises here
        versions = "SELECT version_num FROM alembic_version ORDER BY 1"
        with engine.connect() as connection:
            migrated = list(connection.execute(text(versions)).scalars())
        ensure_schema(engine)  # one more start: nothing left to do
        with engine.connect() as connection:
            assert migrated and list(connection.execute(text(versions)).scalars()) == migrated
    finally:
        for replica in [*engines, engine]:
            replica.dispose()
