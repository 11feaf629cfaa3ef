"""What the store keeps only for a while, pruned every hour: the real-time event log
(``realtime.event_retention_hours``), health samples (``realtime.health_retention_days``),
player reports (``api.metrics_retention_days``) and spent or expired refresh tokens."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mediad.background import Periodic
from mediad.clock import now_ms
from mediad.config import Config
from mediad.store import Store

log = logging.getLogger("mediad.housekeeping")

PRUNE_EVERY_SEC = 3600.0
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of row is kept, in ms."""

    events_ms: int
    health_ms: int
    player_metrics_ms: int

    @classmethod
    def from_config(cls, config: Config) -> Retention:
        return cls(events_ms=config.realtime.event_retention_hours * HOUR_MS,
                   health_ms=config.realtime.health_retention_days * DAY_MS,
                   player_metrics_ms=config.api.metrics_retention_days * DAY_MS)


class Housekeeping:
    def __init__(self, store: Store, retention: Retention, *,
                 every_sec: float = PRUNE_EVERY_SEC,
                 wall_ms: Callable[[], int] = now_ms) -> None:
        self._store = store
        self._retention = retention
        self._wall_ms = wall_ms
        self._pruner = Periodic(self.prune, every_sec, log=log, failure="pruning failed",
                                at_start=True)

    async def start(self) -> None:
        self._pruner.start()

    async def stop(self) -> None:
        await self._pruner.stop()

    async def prune(self) -> None:
        """Everything past its retention, in one transaction."""
        now, keep, store = self._wall_ms(), self._retention, self._store
        async with store.transaction():
            await store.events.prune(now - keep.events_ms)
            await store.health.prune(now - keep.health_ms)
            await store.player_metrics.prune(now - keep.player_metrics_ms)
            await store.refresh_tokens.prune(now)


HOUSEKEEPING = web.AppKey("housekeeping", Housekeeping)
