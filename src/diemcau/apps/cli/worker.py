"""``diemcau worker``: consume background jobs (ingest, transcription, grading) from the queue."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Annotated, Optional

import typer

from diemcau.apps.cli.common import factory_or_exit, queue_or_exit
from diemcau.apps.logs import log_to_stderr
from diemcau.jobs.registry import load_tasks

# On SIGINT (how the hub stops its services) a job still running after this long is abandoned rather than waited
# for: every job kind is put back on the queue when a worker starts again, and an ingest or transcription resumes
# from its last checkpoint (docs/media.md), while a Ctrl-C should stop the platform within seconds.
STOP_SECONDS = 3.0


def end_own_group() -> None:
    """A worker that leads its process group (the hub starts each service in a session of its own) ends what its
    abandoned jobs left running there (ffmpeg) and exits at once, before an abandoned job's thread records
    anything. A worker in a terminal's group leaves its helpers to the terminal's Ctrl-C."""
    if os.getpgid(0) != os.getpid():
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def worker(
    workers: Annotated[Optional[int], typer.Option(help="Worker threads (default: jobs.workers).")] = None,  # noqa: UP007
) -> None:
    """Run a queue consumer until interrupted (the hub runs one as a managed service)."""
    settings, _ = factory_or_exit()
    queue = queue_or_exit(settings)
    log_to_stderr()  # from here on: what the jobs and the recovery sweeps did, in the hub's log
    load_tasks()
    # An idle consumer polls with back-off; huey's default cap (10 s) would let the first quiz submission after a
    # quiet spell wait that long for its score. One poll a second on an empty queue costs next to nothing.
    consumer = queue.create_consumer(
        workers=workers or settings.jobs.workers, worker_type="thread", max_delay=1.0, shutdown_timeout=STOP_SECONDS
    )
    typer.echo(f"worker: consuming {settings.jobs.backend} queue with {workers or settings.jobs.workers} thread(s)")
    consumer.run()
    end_own_group()
