"""Search in the worker: ``reindex_lecture(lecture_id)``, the task to enqueue when a lecture is published,
unpublished or deleted: it indexes the lecture's transcript when the lecture is published and removes it
otherwise. (Transcripts written by jobs reach search through ``search.content.content_changed``, which their
writers call.)
"""

from __future__ import annotations

from diemcau.jobs.context import current
from diemcau.jobs.queue import huey
from diemcau.search.indexer import open_index, sync_lecture


@huey.task()
def reindex_lecture(lecture_id: str) -> str:
    """Bring one lecture's search rows in line with its transcript and publishing status."""
    ctx = current()
    index = open_index(ctx.settings)
    try:
        return sync_lecture(index, ctx.settings, ctx.factory, ctx.stores, lecture_id)
    finally:
        index.close()
