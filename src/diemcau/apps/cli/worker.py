"""``diemcau worker``: consume background jobs (ingest, transcription, grading) from the queue."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from diemcau.apps.cli.common import factory_or_exit
from diemcau.jobs.queue import configure_queue
from diemcau.jobs.registry import load_tasks


def worker(
    workers: Annotated[Optional[int], typer.Option(help="Worker threads (default: jobs.workers).")] = None,  # noqa: UP007
) -> None:
    """Run a queue consumer until interrupted (the hub runs one as a managed service)."""
    settings, _ = factory_or_exit()
    queue = configure_queue(settings)
    load_tasks()
    # An idle consumer polls with back-off; huey's default cap (10 s) would let the first quiz submission after a
    # quiet spell wait that long for its score. One poll a second on an empty queue costs next to nothing.
    consumer = queue.create_consumer(workers=workers or settings.jobs.workers, worker_type="thread", max_delay=1.0)
    typer.echo(f"worker: consuming {settings.jobs.backend} queue with {workers or settings.jobs.workers} thread(s)")
    consumer.run()
