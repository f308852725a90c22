"""Search in the worker: the index follows transcripts that jobs write, and lectures whose status changes.

* Each consumer start subscribes the indexer to the transcript store's hook, with the settings the tasks of
  this process use (``jobs.task_settings.current_settings``), so a transcription's transcript is indexed as written.
* ``reindex_lecture(lecture_id)`` is the task to enqueue when a lecture is published, unpublished or deleted:
  it indexes the lecture's transcript when the lecture is published and removes it otherwise.
"""

from __future__ import annotations

from diemcau.jobs.queue import huey
from diemcau.jobs.task_settings import current_settings, factory_for
from diemcau.search.indexer import install_hooks, open_index, sync_lecture


def _settings_and_factory():  # type: ignore[no-untyped-def]
    settings = current_settings()
    return settings, factory_for(settings.database_url)


@huey.on_startup()
def follow_transcripts() -> None:
    """Subscribe the indexer to transcript writes in this worker process (idempotent)."""
    install_hooks(*_settings_and_factory())


@huey.task()
def reindex_lecture(lecture_id: str) -> str:
    """Bring one lecture's search rows in line with its transcript and publishing status."""
    settings, factory = _settings_and_factory()
    index = open_index(settings)
    try:
        return sync_lecture(index, settings, factory, lecture_id)
    finally:
        index.close()
