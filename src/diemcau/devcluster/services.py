"""The data host's servers, PostgreSQL, Redis and nginx, each a fresh instance of the Debian packages' binaries,
PostgreSQL and Redis run as their own system users, inside the data host's namespace and listening on its address
only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from diemcau.adapters.nginx_config import TEMPLATE, NginxFront, render
from diemcau.devcluster import netns
from diemcau.devcluster.topology import DATABASE, DATABASE_ROLE, POSTGRES_PORT, REDIS_PORT, Host, Secrets


class ServiceError(RuntimeError):
    """A server would not start (its binary missing, or it failed: its log says why)."""


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's ``bin`` folder (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ServiceError("no PostgreSQL server in /usr/lib/postgresql (scripts/ensure_system.sh test installs it)")
    return found[-1].parent


def _as(user: str, *argv: str) -> list[str]:
    """``argv`` run as ``user`` (a one-shot command)."""
    return ["runuser", "-u", user, "--", *argv]


def _exec_as(user: str, *argv: str) -> list[str]:
    """``argv`` run as ``user`` in this very process (no parent in between: signals reach the server itself)."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv]


def answers(address: str, port: int) -> bool:
    """Whether something accepts connections on ``address:port``."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def wait(ready, what: str, log: Path, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``ready()``; a ``ServiceError`` with the end of ``log`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServiceError(f"{what} did not become ready in {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


def _owned_dir(user: str, prefix: str) -> Path:
    """A fresh folder outside any private temporary folder (the server's user must reach it), owned by ``user``."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(folder, user, user)
    folder.chmod(0o700)
    return folder


def start_postgres(
    namespace: str, host: Host, secrets: Secrets, log: Path, durable: bool
) -> tuple[subprocess.Popen, Path]:
    """initdb, start, and make the platform's role and database (with ``unaccent``); returns the server and its data
    folder. Not ``durable``: no fsync (a test cluster, thrown away afterwards)."""
    binaries, data = postgres_bin(), _owned_dir("postgres", "diemcau-cluster-pg-")
    subprocess.run(
        _as(
            "postgres",
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
        ),
        check=True,
        capture_output=True,
    )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {host.address.rsplit('.', 1)[0]}.0/24 scram-sha-256\n")
    options = [f"listen_addresses={host.address}", f"port={POSTGRES_PORT}", f"unix_socket_directories={data}"]
    if not durable:
        options += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    argv = _exec_as("postgres", str(binaries / "postgres"), "-D", str(data), *[a for o in options for a in ("-c", o)])
    server = subprocess.Popen(netns.command(namespace, *argv), stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def ready() -> bool:
        probe = [str(binaries / "pg_isready"), "-q", "-U", "postgres", "-h", str(data), "-p", str(POSTGRES_PORT)]
        return subprocess.run(probe, check=False).returncode == 0

    wait(ready, "PostgreSQL", log)
    psql = [str(binaries / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(data), "-p", str(POSTGRES_PORT)]
    for database, statement in (
        ("postgres", f"CREATE ROLE {DATABASE_ROLE} LOGIN PASSWORD '{secrets.postgres}'"),
        ("postgres", f"CREATE DATABASE {DATABASE} OWNER {DATABASE_ROLE} ENCODING 'UTF8' TEMPLATE template0"),
        (DATABASE, "CREATE EXTENSION IF NOT EXISTS unaccent"),
    ):
        done = subprocess.run(
            _as("postgres", *psql, "-d", database, "-c", statement), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ServiceError(f"PostgreSQL set-up failed: {done.stderr.strip()}")
    return server, data


def _redis_answers(address: str, password: str) -> bool:
    try:
        with socket.create_connection((address, REDIS_PORT), timeout=1) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while b"PONG" not in answer and len(answer) < 200:
                chunk = sock.recv(200)
                if not chunk:
                    break
                answer += chunk
            return b"+PONG" in answer
    except OSError:
        return False


def start_redis(
    namespace: str, host: Host, secrets: Secrets, log: Path, durable: bool
) -> tuple[subprocess.Popen, Path]:
    """A redis-server bound to the data host's address with a password (protected mode stays on); ``durable``:
    append-only file, fsync each second. Returns the server and its folder."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError("no redis-server on PATH (scripts/ensure_system.sh test installs it)")
    folder = _owned_dir("redis", "diemcau-cluster-redis-")
    config = folder / "redis.conf"  # the password in a file of the server's own, not on a command line
    config.write_text(
        f'bind {host.address}\nport {REDIS_PORT}\nrequirepass {secrets.redis}\ndir {folder}\nsave ""\n'
        f"appendonly {'yes' if durable else 'no'}\nappendfsync everysec\ndaemonize no\nprotected-mode yes\n"
    )
    shutil.chown(config, "redis", "redis")
    config.chmod(0o600)
    argv = netns.command(namespace, *_exec_as("redis", binary, str(config)))
    server = subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    wait(lambda: _redis_answers(host.address, secrets.redis), "Redis", log)
    return server, folder


# The main configuration around the shipped site file: nginx's own files in the cluster's folder for it, an access
# log naming the API host that answered each request (``$upstream_addr``). Its workers run as root: the shared
# volume is a root-only folder here (in production nginx reads a read-only mount of the media folder as its own
# user, docs/deploy-nginx.md).
NGINX_MAIN = """\
worker_processes 1;
user root;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{}}
http {{
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    log_format front '$request_method $request_uri $status $upstream_addr';
    access_log {folder}/access.log front;
    include {folder}/diemcau.conf;
}}
"""


def nginx_binary() -> str:
    """Debian's nginx (on PATH, or /usr/sbin)."""
    binary = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if binary is None:
        raise ServiceError("no nginx on PATH (scripts/ensure_system.sh test installs it)")
    return binary


def start_nginx(namespace: str, front: NginxFront, folder: Path, log: Path) -> subprocess.Popen:
    """nginx with the shipped site file rendered for ``front`` (as ``diemcau deploy nginx-config`` prints it),
    its own files in ``folder``; ready once it listens."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diemcau.conf").write_text(render(TEMPLATE.read_text("utf-8"), front))
    (folder / "nginx.conf").write_text(NGINX_MAIN.format(folder=folder))
    argv = netns.command(namespace, nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr")
    server = subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    address, port = front.listen[0].rsplit(":", 1)
    wait(lambda: server.poll() is None and answers(address, int(port)), "nginx", log)
    return server
