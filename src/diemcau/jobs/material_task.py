"""Reading a material's text on the job queue: the upload stores the file and queues ``read_material_text``.

The task reads the text in a bounded child process (``materials.bounded``), records it and indexes it
(``materials.attach.read_material``). It is idempotent: it does nothing to a material replaced or removed
since it was queued. huey forgets a task whose worker died, and the API may die between storing and queuing,
so every worker, when it starts, queues again every material still ``processing``.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from diemcau.adapters.db.materials import MaterialRecord, processing_materials
from diemcau.jobs.context import current
from diemcau.jobs.queue import QueueUnavailable, configure_queue, huey
from diemcau.jobs.quiz_tasks import has_table
from diemcau.materials.attach import read_material
from diemcau.search.indexer import open_index
from diemcau.settings import Settings, SettingsError

log = logging.getLogger(__name__)


@huey.task()
def read_material_text(lecture_id: str, name: str, sha256: str) -> str:
    """Read, record and index the text of one material; returns the outcome (``superseded`` if replaced)."""
    ctx = current()
    index = open_index(ctx.settings)
    try:
        done = read_material(ctx.settings, ctx.factory, index, lecture_id, name, sha256, ctx.stores.materials)
    finally:
        index.close()
    return "superseded" if done is None else done.search


def enqueue_reading(settings: Settings, record: MaterialRecord) -> bool:
    """Queue the reading of a stored material; ``False`` (logged) if the queue refused: the next worker start
    queues it again."""
    try:
        configure_queue(settings)
        read_material_text(record.lecture_id, record.name, record.sha256)
        return True
    except QueueUnavailable as error:
        log.warning(
            "%s: reading material %r of %s left to the next worker start", error, record.name, record.lecture_id
        )
        return False
    except Exception:
        log.exception("could not queue reading material %r of %s", record.name, record.lecture_id)
        return False


@huey.on_startup("diemcau-material-recovery")
def requeue_processing() -> None:
    """A worker starting queues every material whose text is still to read (a copy already queued is harmless)."""
    try:
        ctx = current()
        if not has_table(ctx, "lecture_materials"):
            return
        waiting = processing_materials(ctx.factory)
    except (SettingsError, DBAPIError):  # no database (or no table) yet: nothing to read
        log.exception("could not look for materials still to read")
        return
    for record in waiting:
        read_material_text(record.lecture_id, record.name, record.sha256)
