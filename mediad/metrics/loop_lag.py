"""Event-loop lag: how late a timer fires. A loop held by a slow callback (a parser, a
synchronous store call, a big JSON dump) delays every viewer and publisher at once."""

from __future__ import annotations

import asyncio
import contextlib
import time

from prometheus_client import Histogram

from mediad.metrics.registry import EVENTS

LOOP_LAG = Histogram(
    "mediad_event_loop_lag_seconds",
    "How much later than asked a timer callback ran on the event loop.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=EVENTS)


class LoopLagProbe:
    """Sleeps ``interval`` and records the overshoot, from start to stop."""

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mediad-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self._interval)
            LOOP_LAG.observe(max(0.0, time.monotonic() - asked - self._interval))
