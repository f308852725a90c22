"""The notebook tests' kernel client (``tests/notebook_client.py``): does a reply whose wake-up was lost get read
after one short poll instead of after the cell's whole timeout, and does a silent kernel still time out?"""

from __future__ import annotations

import asyncio
import time
from queue import Empty
from typing import Any

import pytest

from tests.notebook_client import POLL_SLICE_SECONDS, polled_in_slices


class LostWakeUpChannel:
    """A channel whose reply already sits in the socket but whose poll is never woken: each ``get_msg(timeout)``
    would wait its full ``timeout`` (recorded, not slept) and then find the reply, as pyzmq's final ``poll(0)``
    does. ``reply=None``: nothing ever arrives, each poll waits (really) and finds nothing."""

    def __init__(self, reply: dict[str, Any] | None) -> None:
        self.reply, self.waits = reply, []

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        self.waits.append(timeout)
        if self.reply is None:
            await asyncio.sleep(timeout or 0)
            raise Empty
        return self.reply


def test_a_reply_with_a_lost_wake_up_is_read_after_one_short_poll() -> None:
    """With a 120 s cell timeout, is the waiting reply read by a poll of one slice, not of 120 s?"""
    channel = LostWakeUpChannel({"msg_type": "execute_reply"})
    assert asyncio.run(polled_in_slices(channel.get_msg)(timeout=120)) == {"msg_type": "execute_reply"}
    assert channel.waits == [POLL_SLICE_SECONDS]
    channel.waits.clear()
    asyncio.run(polled_in_slices(channel.get_msg)(timeout=None))  # iopub: nbclient waits for ever
    assert channel.waits == [POLL_SLICE_SECONDS]


def test_a_silent_kernel_still_times_out_after_the_whole_timeout() -> None:
    """When nothing arrives, does it poll in slices and raise ``Empty`` only once the whole timeout is spent?"""
    channel = LostWakeUpChannel(None)
    started = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(polled_in_slices(channel.get_msg, slice_seconds=0.05)(timeout=0.2))
    assert time.monotonic() - started >= 0.2  # not before the whole timeout (a lower bound: load cannot break it)
    assert channel.waits and all(wait <= 0.05 for wait in channel.waits)
