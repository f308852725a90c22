"""Reading a material's text on the job queue: the upload stores the file and queues ``read_material_text``.

The task reads the text in a bounded child process (``materials.bounded``), records it and indexes it
(``materials.attach.read_material``). It is idempotent: it does nothing to a material replaced, removed or
already read since it was queued. huey forgets a task whose worker died, and the API may die between storing and
queuing (or find the queue unreachable), so every worker, when it starts, queues again every material still
``processing``, and then sweeps every ``jobs.recovery_seconds`` for materials still ``processing`` whose job the
queue no longer holds (``requeue_lost``).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import DBAPIError

from diemcau.adapters.db.materials import MaterialRecord, processing_materials
from diemcau.jobs.context import WorkerContext, current
from diemcau.jobs.queue import QueueUnavailable, configure_queue, huey, waiting_calls
from diemcau.jobs.quiz_tasks import has_table
from diemcau.materials.attach import read_material
from diemcau.search.indexer import open_index
from diemcau.settings import Settings, SettingsError

log = logging.getLogger(__name__)


@huey.task()
def read_material_text(lecture_id: str, name: str, sha256: str) -> str:
    """Read, record and index the text of one material; returns the outcome (``superseded`` if replaced, removed
    or read already)."""
    ctx = current()
    index = open_index(ctx.settings)
    try:
        done = read_material(ctx.settings, ctx.factory, ctx.stores, index, lecture_id, name, sha256)
    finally:
        index.close()
    return "superseded" if done is None else done.search


def enqueue_reading(settings: Settings, record: MaterialRecord) -> bool:
    """Queue the reading of a stored material; ``False`` (logged) if the queue refused: a worker's recovery
    sweep queues it again."""
    try:
        configure_queue(settings)
        read_material_text(record.lecture_id, record.name, record.sha256)
        return True
    except QueueUnavailable as error:
        log.warning(
            "%s: reading material %r of %s left to the workers' recovery sweep", error, record.name, record.lecture_id
        )
        return False
    except Exception:
        log.exception("could not queue reading material %r of %s", record.name, record.lecture_id)
        return False


def requeue_lost(ctx: WorkerContext, grace_seconds: float | None = None) -> list[MaterialRecord]:
    """Queue again every material still ``processing`` that was uploaded more than ``grace_seconds`` ago (default:
    ``materials.extract_seconds`` plus ``jobs.lease_seconds``, longer than a read may take) and whose call the
    queue does not hold: its job was never queued, or died with its worker. Returns those materials."""
    if not has_table(ctx, "lecture_materials"):
        return []
    settings = ctx.settings
    grace = settings.materials.extract_seconds + settings.jobs.lease_seconds if grace_seconds is None else grace_seconds
    waiting = processing_materials(ctx.factory, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=grace))
    held = waiting_calls(configure_queue(settings), read_material_text) if waiting else set()
    lost = [record for record in waiting if (record.lecture_id, record.name, record.sha256) not in held]
    for record in lost:
        read_material_text(record.lecture_id, record.name, record.sha256)
    if lost:
        log.info("re-queued reading %d material(s) whose job was lost", len(lost))
    return lost


@huey.on_startup("diemcau-material-recovery")
def requeue_processing() -> None:
    """A worker starting queues every material whose text is still to read and not in the queue, then sweeps again
    every ``jobs.recovery_seconds``."""
    try:
        ctx = current()
        requeue_lost(ctx, grace_seconds=0)
    except (SettingsError, DBAPIError):  # no database (or no table) yet: nothing to read
        log.exception("could not look for materials still to read")
        return
    if ctx.first_time("material-recovery"):
        ctx.repeat("material-recovery", ctx.settings.jobs.recovery_seconds, requeue_lost)
