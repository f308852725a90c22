"""The pending flag of quiz grading, in the queue's own key-value store: it keeps batch grading cheap.

**pending** (one per quiz): set by whoever queues a grading task of the quiz, cleared by the task when it goes
idle. While it is set a task is queued or at work, so the API need not queue another: a burst of submissions
to one quiz queues one task, not one per submission. The task clears the flag *before* its last look for
waiting submissions, so a submission stored while the flag was set is always found.

It lives in the queue's storage (the SQLite file or Redis), so every API process and worker sees it. A lost
flag costs time, never a submission: the periodic sweep queues grading of anything left waiting. Who grades a
quiz is decided by the quiz's lease in the database (``jobs.lease``, see ``jobs.quiz_tasks``).
"""

from __future__ import annotations

from huey import Huey


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
