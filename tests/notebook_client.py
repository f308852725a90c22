"""nbclient's ``NotebookClient`` with its kernel channels read in short polls, for the notebook tests.

Why: nbclient waits for a cell's ``execute_reply`` with one ``poll`` of the shell socket lasting the whole cell
timeout (and for output with one endless ``poll`` of the iopub socket). pyzmq's asyncio poller is woken by the
socket's edge-triggered file descriptor; under load that wake-up is sometimes lost while the reply is already in
the socket, and nobody looks again until the poll's timer fires and its final non-blocking ``poll(0)`` finds it.
So a notebook that had finished kept its test waiting out the full 120 s timeout, then passed (the 122 s test of
issue 15). Reading in slices of ``POLL_SLICE_SECONDS`` bounds a lost wake-up to one slice; the cell's own timeout
is kept whole (the slices add up to it), so a cell that really hangs still fails after the same time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from queue import Empty
from typing import Any

from nbclient import NotebookClient

POLL_SLICE_SECONDS = 0.5

GetMsg = Callable[..., Awaitable[dict[str, Any]]]


def polled_in_slices(get_msg: GetMsg, slice_seconds: float = POLL_SLICE_SECONDS) -> GetMsg:
    """``get_msg(timeout)`` waiting at most ``slice_seconds`` per poll, up to the same overall ``timeout``
    (``None``: for ever); it raises ``Empty`` only once the whole timeout has passed, as the original does."""

    async def get_msg_in_slices(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_seconds if deadline is None else min(slice_seconds, max(deadline - time.monotonic(), 0.0))
            try:
                return await get_msg(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


class SlicedPollNotebookClient(NotebookClient):
    """A ``NotebookClient`` whose kernel client reads the shell and iopub channels in short polls."""

    async def async_start_new_kernel_client(self):  # type: ignore[no-untyped-def]
        client = await super().async_start_new_kernel_client()
        for channel in (client.shell_channel, client.iopub_channel):
            channel.get_msg = polled_in_slices(channel.get_msg)
        return client
