"""The hub configuration, applied to a bare traitlets Config: no hub started."""

from pathlib import Path

from traitlets.config import Config

from diemcau.apps.hub.config import HubPaths, apply_config
from diemcau.settings import Settings

PATHS = HubPaths(Path("/repo/hub_config/templates"), "/repo/node_modules/.bin/configurable-http-proxy", "/py", "/bin")


def test_roster_login_and_portal_landing(settings: Settings) -> None:
    """Does the config use the roster authenticator on the app database and land members on the portal?"""
    c = apply_config(settings, Config(), PATHS)
    assert c.JupyterHub.authenticator_class.endswith("RosterAuthenticator")
    assert c.RosterAuthenticator.database_url == settings.database_url
    assert c.JupyterHub.default_url == "/services/diemcau/"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.implicit_spawn_seconds == 1  # a staff dashboard link starts its stopped server by itself


def test_login_throttle_settings_reach_the_authenticator(settings: Settings) -> None:
    """Does every auth setting reach the roster authenticator, which builds its throttle policy from them?"""
    from diemcau.apps.hub.authenticator import RosterAuthenticator

    changed = {"free_failures": 4, "max_wait_seconds": 90, "trusted_proxies": ["10.0.0.2"]}
    auth = settings.auth.model_copy(update=changed)
    c = apply_config(settings.model_copy(update={"auth": auth}), Config(), PATHS)
    roster = RosterAuthenticator(config=c)
    assert (roster.policy.pair.free, roster.policy.pair.cap.total_seconds()) == (4, 90)
    assert roster.policy.account.cap.total_seconds() == 90 and roster.policy.account.free == auth.account_free_failures
    assert roster.policy.address.free == auth.address_free_failures
    assert roster.policy.address.cap.total_seconds() == auth.address_max_wait_seconds
    assert roster.policy.forget_after.total_seconds() == auth.forget_after_minutes * 60
    assert roster.trusted_proxies == ["10.0.0.2"] and roster.min_password_length == auth.min_password_length


def test_state_lives_in_the_data_directory(settings: Settings) -> None:
    """Are the hub's database and cookie secret inside the data directory, and is that directory, with the
    transcripts and the deployment's hub config, made private before each spawn?"""
    c = apply_config(settings, Config(), PATHS)
    for value in (c.JupyterHub.db_url, c.JupyterHub.cookie_secret_file):
        assert str(settings.home) in value
    private = c.IsolatedSpawner.private_paths
    assert str(settings.home) in private and str(settings.transcripts_dir) in private
    assert "/repo/hub_config/jupyterhub_config.d" in private


def test_members_cannot_spawn_but_staff_can(settings: Settings) -> None:
    """Does the default user role lack server scopes, while the staff groups get their own server?"""
    roles = {r["name"]: r for r in apply_config(settings, Config(), PATHS).JupyterHub.load_roles}
    assert not any("server" in scope or scope == "self" for scope in roles["user"]["scopes"])
    assert roles["diemcau-staff"]["scopes"] == ["self"]
    assert "role-secretary" in roles["diemcau-staff"]["groups"]


def test_services_get_their_own_jupyter_dirs(settings: Settings) -> None:
    """Do managed services get JUPYTER_DATA_DIR, IPYTHONDIR and the venv's bin on PATH (they inherit HOME)?"""
    services = {s["name"]: s for s in apply_config(settings, Config(), PATHS).JupyterHub.services}
    env = services["diemcau"]["environment"]
    assert env["DIEMCAU_HOME"] == str(settings.home)
    assert env["JUPYTER_DATA_DIR"].startswith(str(settings.home)) and env["PATH"] == "/bin"
    assert "idle-culler" in services


def test_other_authenticators_are_left_to_config_d(settings: Settings) -> None:
    """With authenticator = 'ldap', is the roster authenticator left unset for jupyterhub_config.d to configure?"""
    ldap = settings.model_copy(update={"hub": settings.hub.model_copy(update={"authenticator": "ldap"})})
    assert "authenticator_class" not in apply_config(ldap, Config(), PATHS).JupyterHub


def test_staff_servers_run_as_their_own_system_users(settings: Settings) -> None:
    """Do staff servers get the isolating spawner (homes outside the data directory, terminals for admins only),
    never --allow-root, and no DIEMCAU_* variable but the API's URL?"""
    c = apply_config(settings, Config(), PATHS)
    assert c.JupyterHub.spawner_class == "diemcau.apps.hub.spawner.IsolatedSpawner"
    assert c.IsolatedSpawner.homes_dir == "/home" and c.IsolatedSpawner.system_user_prefix == "jupyter-"
    assert c.IsolatedSpawner.terminal_groups == ["role-admin"]
    assert "--allow-root" not in c.Spawner.get("args", [])
    assert [name for name in c.Spawner.environment if name.startswith("DIEMCAU_")] == ["DIEMCAU_API_URL"]


def test_a_stopping_hub_takes_its_proxy_and_servers_with_it(settings: Settings) -> None:
    """Does the hub stop its proxy and every staff server when it stops, whatever JupyterHub's defaults become?"""
    c = apply_config(settings, Config(), PATHS)
    assert c.JupyterHub.cleanup_servers is True and c.JupyterHub.cleanup_proxy is True


def test_one_machine_runs_its_own_api_on_loopback(settings: Settings) -> None:
    """Without hub.api_url, does the hub run the API itself on loopback, and staff servers call it there?"""
    c = apply_config(settings, Config(), PATHS)
    api = next(s for s in c.JupyterHub.services if s["name"] == "diemcau")
    assert api["url"] == "http://127.0.0.1:8090" and "diemcau.apps.api" in api["command"] and "api_token" not in api
    assert c.Spawner.environment["DIEMCAU_API_URL"] == "http://127.0.0.1:8090/services/diemcau"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"


def test_replicas_behind_nginx_are_an_external_service(settings: Settings) -> None:
    """With hub.api_url (nginx's upstream of replicas), does the hub start no API, register that URL with the
    token `diemcau hub` made (private to the hub's user), and send staff servers there too?"""
    from diemcau.apps.setup_steps import ensure_api_token

    hub = settings.hub.model_copy(update={"api_url": "http://10.0.0.5:8080", "hub_ip": "10.0.0.2"})
    external = settings.model_copy(update={"hub": hub})
    token = ensure_api_token(external)
    assert token is not None and token.stat().st_mode & 0o777 == 0o600
    assert ensure_api_token(external) == token and ensure_api_token(settings) is None  # once; one machine: none
    c = apply_config(external, Config(), PATHS)
    api = next(s for s in c.JupyterHub.services if s["name"] == "diemcau")
    assert api["url"] == "http://10.0.0.5:8080" and "command" not in api and "environment" not in api
    assert api["api_token"] == token.read_text().strip() and len(api["api_token"]) == 64
    assert c.Spawner.environment["DIEMCAU_API_URL"] == "http://10.0.0.5:8080/services/diemcau"
    assert c.JupyterHub.hub_bind_url == "http://10.0.0.2:8081"  # where the replicas' JUPYTERHUB_API_URL points


def test_a_hub_beside_worker_hosts_runs_no_worker_of_its_own(settings: Settings) -> None:
    """Does one machine's hub run the job worker as a service, and a hub with ``hub.run_worker`` off (worker
    hosts run it) none, its other services unchanged?"""
    names = [s["name"] for s in apply_config(settings, Config(), PATHS).JupyterHub.services]
    assert names == ["diemcau", "idle-culler", "worker"]
    hub = settings.hub.model_copy(update={"run_worker": False})
    alone = apply_config(settings.model_copy(update={"hub": hub}), Config(), PATHS).JupyterHub.services
    assert [s["name"] for s in alone] == ["diemcau", "idle-culler"]
    assert not any("worker" in " ".join(s.get("command", [])) for s in alone)


def test_a_bad_api_url_or_hub_ip_stops_start_up(tmp_path: Path) -> None:
    """Is an API URL with a path or a quote, or a hub_ip that is not an address, refused with the key named?"""
    import pytest

    from diemcau.settings import SettingsError, load_settings
    from tests.data_dirs import data_dir_environ

    for key, value in (("API_URL", "http://h:1/x'"), ("API_URL", "ftp://h"), ("HUB_IP", "0.0.0.0; rm")):
        with pytest.raises(SettingsError, match=key.lower()):
            load_settings(data_dir_environ(tmp_path, **{f"DIEMCAU_HUB__{key}": value}))
