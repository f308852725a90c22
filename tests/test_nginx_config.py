"""Rendering the shipped nginx configuration (``adapters.nginx_config.render``, ``diemcau deploy nginx-config``):
the same code the nginx tests and an operator use, checked without nginx."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from diemcau.adapters.nginx_config import TEMPLATE, NginxConfigError, NginxFront, render
from diemcau.apps.cli import app
from tests.data_dirs import data_dir_environ

FRONT = NginxFront(
    ("443 ssl", "10.0.0.5:8080"), ("10.0.0.11:8090", "api-2.lan:8090", "[fd00::3]:8090"), "/srv/m", "127.0.0.1:8002"
)


def directives(text: str) -> list[str]:
    """The rendered file's lines that are not comments, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_one_server_line_per_replica_and_one_listen_per_value() -> None:
    """Does the shipped template get one upstream `server` per replica and one `listen` per value, in order,
    with the folder and prefixes filled in and no placeholder left outside the comments?"""
    lines = directives(render(TEMPLATE.read_text("utf-8"), FRONT))
    servers = [line for line in lines if line.startswith("server ") and line.endswith(";")]
    assert [line.split()[1] for line in servers] == list(FRONT.api)
    assert all("max_fails=" in line and "fail_timeout=" in line for line in servers)
    assert [line for line in lines if line.startswith("listen ")] == ["listen 443 ssl;", "listen 10.0.0.5:8080;"]
    assert "root /srv/m;" in lines and "proxy_pass http://127.0.0.1:8002;" in lines
    assert not any("{{" in line for line in lines)
    assert any(line.startswith("location ~ ^/services/diemcau/api/media/") for line in lines)


def test_each_caller_is_hashed_to_one_replica_and_names_are_looked_up_again_only_with_a_resolver() -> None:
    """Is the upstream a consistent hash of the caller's credentials in a shared zone (the hash before keepalive,
    as nginx requires), with no resolver and no `resolve` by default, and with --resolver one resolver line and
    `resolve` on every server?"""
    lines = directives(render(TEMPLATE.read_text("utf-8"), FRONT))
    upstream = lines[
        lines.index("upstream diemcau_api {") + 1 : lines.index("}", lines.index("upstream diemcau_api {"))
    ]
    assert upstream[:2] == ["zone diemcau_api 256k;", "hash $diemcau_balance_key consistent;"]
    assert upstream.index("keepalive 32;") > max(i for i, line in enumerate(upstream) if line.startswith("server "))
    assert 'map "$http_authorization$http_cookie" $diemcau_balance_key {' in lines
    assert not any(line.startswith("resolver") or " resolve" in line for line in lines)
    dns = NginxFront(**{**FRONT.__dict__, "api": ("diemcau-api-pods:8090",), "resolver": ("10.96.0.10", "dns:53")})
    resolved = directives(render(TEMPLATE.read_text("utf-8"), dns))
    assert [line for line in resolved if line.startswith("resolver ")] == ["resolver 10.96.0.10 dns:53 valid=10s;"]
    assert "server diemcau-api-pods:8090 max_fails=2 fail_timeout=10s resolve;" in resolved


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api", ("10.0.0.11:8090; include /etc/passwd",)),
        ("api", ("10.0.0.11",)),
        ("api", ("10.0.0.11:8090\n",)),
        ("api", ("10.0.0.11:70000",)),
        ("api", ()),
        ("listen", ("80; location / { root /; }",)),
        ("listen", ("$evil",)),
        ("listen", ()),
        ("media_root", "/srv/my media"),
        ("media_root", "/srv/../etc"),
        ("media_root", "srv/media"),
        ("media_root", "/srv/${x}"),
        ("media_root", "/srv/m\n"),
        ("hub_proxy", "127.0.0.1:8002\n}"),
        ("prefix", "/services/diemcau/"),
        ("prefix", "/services/diemcau\n"),
        ("prefix", "/services/{{API}}"),
        ("resolver", ("10.96.0.10; include /etc/passwd",)),
        ("resolver", ("10.96.0.10 valid=0",)),
        ("resolver", ("kube-dns:99999",)),
        ("resolver", ("$dns",)),
    ],
)
def test_a_value_that_could_change_the_config_is_refused(field: str, value: object) -> None:
    """Is every value that could end a directive, open a block, use a variable or escape the media folder
    refused with the value named, instead of being written into the file?"""
    bad = NginxFront(**{**FRONT.__dict__, field: value})
    with pytest.raises(NginxConfigError):
        render(TEMPLATE.read_text("utf-8"), bad)


def test_an_unfilled_placeholder_is_an_error() -> None:
    """Does a template with a placeholder nothing fills fail, while placeholders in comments are left alone?"""
    assert render("# {{ANYTHING}}\nlisten {{LISTEN}};\n", FRONT).startswith("# {{ANYTHING}}\n")
    with pytest.raises(NginxConfigError, match="TYPO"):
        render("listen {{LISTEN}};\nroot {{TYPO}};\n", FRONT)


def test_the_cli_prints_the_rendered_file_and_refuses_bad_values(tmp_path: Path) -> None:
    """Does `diemcau deploy nginx-config` print exactly what render gives (the media root defaulting to the data
    directory's), and exit 1 naming a bad replica?"""
    env = data_dir_environ(tmp_path)
    args = ["deploy", "nginx-config", "--listen", "443 ssl", "--api", "10.0.0.11:8090", "--hub-proxy", "127.0.0.1:8002"]
    result = CliRunner().invoke(app, [*args, "--api", "10.0.0.12:8090"], env=env, catch_exceptions=False)
    front = NginxFront(
        ("443 ssl",), ("10.0.0.11:8090", "10.0.0.12:8090"), str(tmp_path / "var" / "media"), "127.0.0.1:8002"
    )
    assert result.exit_code == 0 and result.stdout == render(TEMPLATE.read_text("utf-8"), front)
    refused = CliRunner().invoke(app, [*args, "--api", "10.0.0.12"], env=env, catch_exceptions=False)
    assert refused.exit_code == 1 and "10.0.0.12" in refused.output
