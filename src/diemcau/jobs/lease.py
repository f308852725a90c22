"""One lease for every job: who works on it (``host:pid``), renewed while it runs, taken over once it expires.

A lease lives in the database, never in a local file, so it holds across machines: a worker that claims a job
writes itself as the owner with a heartbeat, renews the heartbeat every third of ``jobs.lease_seconds`` while it
works, and lets go when it is done. A holder is *gone* when its heartbeat is older than ``jobs.lease_seconds``
— or at once when it was a process on this host that no longer exists (a ``kill -9`` next door need not wait for
the expiry). Another worker may then take the job over, and recovery sweeps re-queue only such jobs, never one
whose holder is alive on another host.

The transcription job keeps its lease on its ``jobs`` row (``adapters.db.job_leases``), and so does quiz
grading (one row per quiz, kind ``grade_quiz``, made by the first taker); ingest keeps its owner and heartbeat
on ``ingest_runs`` and applies the same rule (``holder_gone``) and renewal (``renewing``).

**A holder that lost its lease stops.** A holder that stalled (a frozen VM, a network partition, a pause longer
than the lease) may find on its next renewal that another worker took the job over. The renewal then fails
(the row names another owner): ``renewing`` sets the holder's ``lost`` event and stops renewing, and the job
checks it at each step (a transcription window, an ingest stage's progress, a grading batch) and stops
without writing anything further (``LeaseLost``); the new holder carries the job on from its checkpoint.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from diemcau.adapters.db import job_leases

log = logging.getLogger(__name__)


def this_host(name: str = "") -> str:
    """The host part of an owner: ``name`` when set (``jobs.host_name``), else the machine's host name."""
    return name or socket.gethostname()


def owner_id(host: str = "") -> str:
    """This process as a lease holder: ``host:pid``."""
    return f"{this_host(host)}:{os.getpid()}"


def holder_gone(owner: str, heartbeat_at: dt.datetime | None, expire_after: float, host: str = "") -> bool:
    """Has a lease's holder gone: a dead process on this host, or no heartbeat for ``expire_after`` seconds?"""
    holder_host, _, pid = owner.rpartition(":")
    if holder_host == this_host(host) and pid.isdigit() and not _process_alive(int(pid)):
        return True
    if heartbeat_at is None:
        return True
    return (job_leases.utcnow() - heartbeat_at).total_seconds() > expire_after


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LeaseLost(Exception):
    """The job's lease was taken over by another worker after it expired: this holder stops its work."""


def check(lost: threading.Event | None, what: str) -> None:
    """Raise ``LeaseLost`` if the renewal found the lease taken over (``lost`` set)."""
    if lost is not None and lost.is_set():
        raise LeaseLost(what)


@contextmanager
def renewing(
    beat: Callable[[], object],
    every: float,
    name: str,
    lost: threading.Event | None = None,
    lost_after: float | None = None,
) -> Iterator[None]:
    """Call ``beat`` every ``every`` seconds on a thread for the block (a long silent stage keeps its lease).

    A ``beat`` that returns ``False`` says the lease is someone else's now: ``lost`` is set and renewal ends. So
    does a renewal that has not succeeded for ``lost_after`` seconds (the lease's length): past its expiry the
    holder cannot know that nobody took the job over, so it must behave as if someone did."""
    stop = threading.Event()

    def loop() -> None:
        confirmed = time.monotonic()
        while not stop.wait(every):
            try:
                renewed = beat()
            except Exception:  # noqa: BLE001 - a busy database must not kill the renewal; expiry is the backstop
                if lost is not None and lost_after is not None and time.monotonic() - confirmed > lost_after:
                    lost.set()
                    return
                continue
            confirmed = time.monotonic()
            if renewed is False:
                if lost is not None:
                    lost.set()
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


@dataclass(frozen=True)
class JobLease:
    """The lease of one ``jobs`` row, as seen by this process."""

    factory: sessionmaker[Session]
    job_id: str
    expire_after: float
    host: str = ""
    kind: str = ""
    """Set for a job whose row the first taker makes (quiz grading); empty: the row must exist."""

    def gone(self, owner: str, heartbeat_at: dt.datetime | None) -> bool:
        """Has the holder ``owner`` (last heard at ``heartbeat_at``) gone?"""
        return holder_gone(owner, heartbeat_at, self.expire_after, self.host)

    def is_live(self, owner: str, heartbeat_at: dt.datetime | None) -> bool:
        """Does someone (this process included) hold the lease right now?"""
        return bool(owner) and not self.gone(owner, heartbeat_at)

    def renew(self) -> bool:
        """Renew this process's hold now; ``False`` if the lease is no longer its own (taken over after expiry)."""
        return job_leases.renew(self.factory, self.job_id, owner_id(self.host))

    def still_held(self) -> bool:
        """Renew the lease now and say whether it is still this process's (a holder about to decide something
        from the clock asks first: the stall that made the time pass may have cost it the lease). A renewal
        that fails counts as not held."""
        try:
            return self.renew()
        except Exception:  # noqa: BLE001 - unconfirmed is not held; the recovery sweep re-queues what is left
            log.warning("could not confirm the lease of %s", self.job_id, exc_info=True)
            return False

    @contextmanager
    def held(self, lost: threading.Event | None = None) -> Iterator[bool]:
        """Take the lease and renew it for the block, then let go; yields False (holding nothing) if it is taken.
        ``lost`` is set if a renewal finds the lease taken over meanwhile (the block should stop: ``check``)."""
        owner = owner_id(self.host)
        if not job_leases.take(self.factory, self.job_id, owner, self.gone, self.kind):
            yield False
            return
        try:
            every = self.expire_after / 3
            with renewing(self.renew, every, f"lease-{self.job_id}", lost, lost_after=self.expire_after):
                yield True
        finally:
            job_leases.give_up(self.factory, self.job_id, owner)
