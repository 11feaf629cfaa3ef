"""Event-loop lag: how late a timer fires. A loop held by a slow callback (a parser, a
synchronous store call, a big JSON dump) delays every viewer and publisher at once."""

from __future__ import annotations

import logging
import time

from prometheus_client import Histogram

from mediad.background import Periodic
from mediad.metrics.registry import EVENTS

log = logging.getLogger("mediad.metrics")

LOOP_LAG = Histogram(
    "mediad_event_loop_lag_seconds",
    "How much later than asked a timer callback ran on the event loop.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=EVENTS)


class LoopLagProbe:
    """Wakes every ``interval`` from start to stop and records how late each wake-up was."""

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._last = 0.0
        self._periodic = Periodic(self._sample, interval, log=log,
                                  failure="event-loop lag probe failed")

    async def start(self) -> None:
        self._last = time.monotonic()
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _sample(self) -> None:
        now = time.monotonic()
        LOOP_LAG.observe(max(0.0, now - self._last - self._interval))
        self._last = now
