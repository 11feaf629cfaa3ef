"""The event-loop probe sees a callback that holds the loop."""

from __future__ import annotations

import asyncio
import time

from mediad.metrics.loop_lag import LoopLagProbe
from mediad.metrics.registry import EVENTS


def _sample(name: str, le: str | None = None) -> float:
    value = EVENTS.get_sample_value(name, None if le is None else {"le": le})
    return 0.0 if value is None else value


def _slow() -> float:
    """Observations over 0.1 s."""
    bucket = "mediad_event_loop_lag_seconds_bucket"
    return _sample(bucket, "+Inf") - _sample(bucket, "0.1")


async def test_a_blocked_loop_shows_as_lag() -> None:
    count = _sample("mediad_event_loop_lag_seconds_count")
    slow = _slow()
    probe = LoopLagProbe(interval=0.01)
    await probe.start()
    await asyncio.sleep(0.05)
    # a synchronous callback holding the loop, as a bug would
    asyncio.get_running_loop().call_soon(time.sleep, 0.3)
    await asyncio.sleep(0.4)
    await probe.stop()
    assert _sample("mediad_event_loop_lag_seconds_count") > count + 2
    assert _slow() == slow + 1


async def test_stop_ends_the_probe() -> None:
    probe = LoopLagProbe(interval=0.01)
    await probe.start()
    await asyncio.sleep(0.05)
    await probe.stop()
    count = _sample("mediad_event_loop_lag_seconds_count")
    await asyncio.sleep(0.05)
    assert _sample("mediad_event_loop_lag_seconds_count") == count
