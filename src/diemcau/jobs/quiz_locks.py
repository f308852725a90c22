"""Two small records in the queue's own key-value store that keep batch grading cheap and single-handed.

* **pending** (one per quiz): set by whoever queues a grading task of the quiz, cleared by the task when it
  goes idle. While it is set a task is queued or at work, so the API need not queue another: a burst of
  submissions to one quiz queues one task, not one per submission. The task clears the flag *before* its last
  look for waiting submissions, so a submission stored while the flag was set is always found.
* **lease** (one per quiz): held by the task grading the quiz, so two workers never grade the same submissions.
  A task that finds it held leaves: the holder looks again for waiting submissions after releasing it. A lease
  whose holder died (``kill -9``: its process is gone, or it has not renewed it for ``LEASE_SECONDS``) is
  taken over.

Both live in the queue's storage (the SQLite file or Redis), so every API process and worker sees them. A lost
flag or lease costs time, never a submission: the periodic sweep queues grading of anything left waiting.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

from huey import Huey
from huey.constants import EmptyData

LEASE_SECONDS = 20.0


def _key(kind: str, course_id: str, quiz_id: str) -> str:
    return f"diemcau.quiz-grading.{kind}:{course_id}/{quiz_id}"


def mark_pending(queue: Huey, course_id: str, quiz_id: str) -> bool:
    """Set the quiz's pending flag; ``False`` if it was already set (a grading task is queued or at work)."""
    key = _key("pending", course_id, quiz_id)
    if queue.storage.has_data_for_key(key):  # a read first: the common case under load, and no write lock
        return False
    return bool(queue.storage.put_if_empty(key, b"1"))


def take_pending(queue: Huey, course_id: str, quiz_id: str) -> None:
    """Clear the quiz's pending flag (its grading task going idle): the next submission queues a new task."""
    queue.storage.delete_data(_key("pending", course_id, quiz_id))


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, and since when it was last renewed."""

    renewed_at: float
    host: str
    pid: int

    def encode(self) -> bytes:
        return f"{self.renewed_at:.3f} {self.host} {self.pid}".encode()

    @classmethod
    def decode(cls, value: bytes | memoryview | str) -> Holder | None:
        text = bytes(value).decode() if not isinstance(value, str) else value
        try:
            renewed, host, pid = text.split(" ")
            return cls(float(renewed), host, int(pid))
        except ValueError:
            return None

    def is_gone(self, now: float) -> bool:
        """Has this holder stopped (its process gone on this host, or no renewal for ``LEASE_SECONDS``)?"""
        if now - self.renewed_at > LEASE_SECONDS:
            return True
        if self.host != socket.gethostname() or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def _me() -> Holder:
    return Holder(time.time(), socket.gethostname(), os.getpid())


def acquire_lease(queue: Huey, course_id: str, quiz_id: str) -> bool:
    """Take the quiz's grading lease; ``False`` while another live worker holds it."""
    key = _key("lease", course_id, quiz_id)
    if queue.storage.put_if_empty(key, _me().encode()):
        return True
    value = queue.storage.peek_data(key)
    holder = None if value is EmptyData else Holder.decode(value)
    if holder is not None and not holder.is_gone(time.time()):
        return False
    # The holder died. Two workers taking over at once may both think they hold it: harmless, since grading a
    # submission twice writes the same grades.
    queue.storage.delete_data(key)
    return bool(queue.storage.put_if_empty(key, _me().encode()))


def renew_lease(queue: Huey, course_id: str, quiz_id: str) -> None:
    """Tell others this worker is alive and still grading the quiz (between batches)."""
    queue.storage.put_data(_key("lease", course_id, quiz_id), _me().encode())


def release_lease(queue: Huey, course_id: str, quiz_id: str) -> None:
    """Give the quiz's grading lease back."""
    queue.storage.delete_data(_key("lease", course_id, quiz_id))
