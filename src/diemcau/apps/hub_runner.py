"""Run JupyterHub as a child process: wait until it answers, print a banner, stop it and everything it started on
Ctrl-C, SIGTERM or a closed terminal.

How a stop goes (docs/architecture.md, "Stopping"):

* The hub runs in a process group of its own, so a terminal's Ctrl-C (SIGINT to the foreground group) reaches
  this runner only, and the runner sends the hub exactly **one** SIGINT, whatever stopped it (Ctrl-C, SIGTERM
  from systemd, SIGHUP from a closed terminal). A hub in the terminal's group got SIGINT twice (the terminal's,
  then the runner's), ran its cleanup twice at once, and logged ``Failed to stop user`` (the second cleanup
  found the server the first had already removed) and ``Task was destroyed but it is pending!`` (the first
  cleanup stopped the event loop under the second).
* The hub stops its services, its proxy and every staff server (``IsolatedSpawner.stop`` ends every process of
  the server's system user: Streamlit, kernels). If it has not exited after ``STOP_GRACE_SECONDS`` it is killed.
* The runner is a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``): whatever the platform started and that
  outlived its parent becomes the runner's child, so once the hub has exited the runner waits briefly for those
  (a proxy told to stop but not waited for), then ends them (SIGTERM, then SIGKILL). Orphans that exit while the
  hub runs are reaped at once, so none lingers as a zombie.
* The hub's stdin is ``/dev/null``: a Jupyter server whose stdin is a terminal answers SIGINT with an "are you
  sure?" prompt instead of stopping, and no staff server has any business with the operator's terminal.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from diemcau.adapters.procfs import each_process

STOP_GRACE_SECONDS = 20  # the hub's own stop: services, proxy, staff servers (each bounded by its spawner's timeouts)
LEFTOVER_GRACE_SECONDS = 3.0  # after the hub: for each of waiting, SIGTERM and SIGKILL of what outlived it
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_CHILD_SUBREAPER = 36


def wait_until_up(
    url: str, process: subprocess.Popen, timeout: float = 90, stopping: Callable[[], bool] = lambda: False
) -> bool:
    """Poll ``url`` until it answers 200; ``False`` if the hub exits, a stop is asked or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None and not stopping():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def busy_ports(ports: dict[str, int], host: str = "127.0.0.1") -> dict[str, int]:
    """Which of the named ports something already listens on (a second hub, a leftover proxy)."""
    busy = {}
    for name, port in ports.items():
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                busy[name] = port
    return busy


def restore_default_sigint() -> None:
    """Undo an inherited SIG_IGN for SIGINT (use as a ``preexec_fn``)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux); ``False`` where that is not available."""
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        return False


def child_pids(parent: int | None = None) -> list[int]:
    """The processes whose parent is ``parent`` (this process by default), from ``/proc``."""
    parent = os.getpid() if parent is None else parent
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
    return [pid for pid, stat in each_process("stat") if int(stat.rsplit(")", 1)[1].split()[1]) == parent]


def reap_children() -> None:
    """Collect every child that has exited (no zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_leftovers(grace: float = LEFTOVER_GRACE_SECONDS, say: Callable[[str], None] = print) -> list[int]:
    """Once the hub has exited: wait up to ``grace`` seconds for the children left (orphans of the platform, this
    process being their subreaper) to finish stopping, then SIGTERM them, then SIGKILL; ``say`` names each one
    signalled. Returns the pids that had to be signalled."""
    signalled: list[int] = []
    for signum in (None, signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + grace
        sent: set[int] = set()
        while True:
            reap_children()
            children = child_pids()
            if not children:
                return signalled
            for pid in children:
                if signum is not None and pid not in sent:
                    say(f"Stopping a leftover process of the platform ({signum.name}): {pid} {_command(pid)}")
                    _signal(pid, signum)
                    sent.add(pid)
                    signalled.append(pid)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
    return signalled


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "?"


@dataclass
class HubStopper:
    """Turns the first stop signal (SIGINT, SIGTERM, SIGHUP) into one SIGINT to the hub, and kills the hub if it has
    not exited ``grace`` seconds later (``SIGALRM``). Sends with ``os.kill`` until :meth:`hub_reaped`, after
    which the pid may belong to another process and nothing more is sent."""

    pid: int | None = None  # set once the hub is started; a stop asked before that is sent then
    grace: int = STOP_GRACE_SECONDS
    requested: bool = False
    sent: bool = False
    reaped: bool = False
    previous: dict[int, object] = field(default_factory=dict)

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            self.previous[signum] = signal.signal(signum, self.request)
        self.previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, self.kill)

    def uninstall(self) -> None:
        signal.alarm(0)
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def started(self, pid: int) -> None:
        """The hub runs as ``pid``."""
        self.pid = pid
        if self.requested:
            self._send()

    def request(self, _signum: int = signal.SIGINT, _frame: object = None) -> None:
        """Ask the hub to stop, once; later signals change nothing."""
        self.requested = True
        if self.pid is not None:
            self._send()

    def _send(self) -> None:
        if not self.sent and not self.reaped and self.pid is not None:
            self.sent = True
            _signal(self.pid, signal.SIGINT)
            signal.alarm(self.grace)

    def kill(self, _signum: int = signal.SIGALRM, _frame: object = None) -> None:
        if not self.reaped and self.pid is not None:
            print(f"The hub did not stop within {self.grace} s; killing it.", file=sys.stderr, flush=True)
            _signal(self.pid, signal.SIGKILL)

    def hub_reaped(self) -> None:
        """The hub is gone and its pid free for reuse: signal it no more (later stop signals are ignored)."""
        self.reaped = True
        signal.alarm(0)


def wait_for_hub(process: subprocess.Popen) -> int:
    """Wait for the hub to exit, reaping orphans that exit meanwhile; its exit status (128 + N if killed by N)."""
    while process.returncode is None:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:  # the hub was reaped elsewhere (``process.poll``)
            process.poll()
            break
        if pid == process.pid:
            process.returncode = os.waitstatus_to_exitcode(raw)
    status = process.returncode if process.returncode is not None else 1
    return status if status >= 0 else 128 - status


def run_hub(command: list[str], env: dict[str, str], cwd: Path, health_url: str, banner: Callable[[], None]) -> int:
    """Run the hub until it exits or is stopped, then end whatever outlived it; returns the hub's exit status."""
    become_subreaper()
    stopper = HubStopper()
    stopper.install()  # before the hub starts: a Ctrl-C meanwhile reaches it once it runs
    try:
        # A shell's background job starts with SIGINT ignored, and the hub's services would inherit that and hold
        # up shutdown by 30 s each; restore the default so every process of the platform answers SIGINT.
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, process_group=0, preexec_fn=restore_default_sigint
        )
        stopper.started(process.pid)
        if wait_until_up(health_url, process, stopping=lambda: stopper.requested):
            banner()
        status = wait_for_hub(process)
        stopper.hub_reaped()
        end_leftovers(say=lambda line: print(line, file=sys.stderr, flush=True))
        return status
    finally:
        stopper.uninstall()
