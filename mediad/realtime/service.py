"""The real-time service of one mediad process: bus, delivery hub, chat commands, viewer
counts, health sampling and stream status, with their background loops."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from mediad.auth import Tokens
from mediad.clock import iso_utc, now_ms
from mediad.config import Config, RealtimeConfig
from mediad.realtime import messages as m
from mediad.realtime.bus import Bus, InProcessBus
from mediad.realtime.chat import ChatCommands
from mediad.realtime.health import Counters, sample
from mediad.realtime.hub import Hub
from mediad.realtime.recorder import Recorder
from mediad.realtime.text import BlockedWords
from mediad.realtime.viewers import REPORT, ViewerTracker
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from packager.pipeline import StreamPipeline

log = logging.getLogger("mediad.realtime")

VIEWERS_EVERY_SEC = 1.0
PRUNE_EVERY_SEC = 3600.0


def make_bus(config: RealtimeConfig) -> Bus:
    if config.bus == "redis":
        from mediad.realtime.redis_bus import RedisBus

        return RedisBus(config.redis_url, config.redis_prefix)
    return InProcessBus()


class Realtime:
    def __init__(self, config: Config, store: Store, registry: StreamRegistry, tokens: Tokens, *,
                 pipelines: Callable[[str], StreamPipeline | None] = lambda stream_id: None,
                 bus: Bus | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self.tokens = tokens
        self.pipelines = pipelines
        self.bus = bus if bus is not None else make_bus(config.realtime)
        self.clock = clock
        self.hub = Hub(store, config.realtime.flush_interval_ms,
                       config.realtime.max_frames_per_sec)
        self.viewers = ViewerTracker(self.bus.instance_id)
        self.recorder = Recorder(store, self.bus)
        self.commands = ChatCommands(store, config.chat, self.recorder, clock=clock)
        self.tip_words = BlockedWords(config.chat.blocked_words)
        self.latest_health: dict[str, m.Message] = {}
        self._counters: dict[str, Counters] = {}
        self._states: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.bus.start(self._on_bus, self.hub.check_gaps)
        for live in self.registry.live_streams():
            self._states[live.stream_id] = live.state
        self.registry.listeners.append(self._stream_changed)
        for loop in (self._viewers_loop(), self._health_loop(), self._prune_loop()):
            self._spawn(loop)

    async def stop(self) -> None:
        if self._stream_changed in self.registry.listeners:
            self.registry.listeners.remove(self._stream_changed)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.hub.close()
        await self.bus.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the bus ---------------------------------------------------------------------

    def _on_bus(self, stream_id: str, message: m.Message) -> None:
        kind = message.get("type")
        if kind == REPORT:
            instance, count = message.get("instance"), message.get("count")
            if isinstance(instance, str) and isinstance(count, int):
                self.viewers.report_received(stream_id, instance, count, self.clock())
            return
        if kind == m.HEALTH:
            self.latest_health[stream_id] = message
        self.hub.deliver(stream_id, message)

    # -- viewers ---------------------------------------------------------------------

    def viewer_key(self, browser: str | None, remote: str | None, user_agent: str) -> str:
        if browser:
            return "b:" + browser
        digest = hashlib.blake2b(f"{remote}|{user_agent}".encode(), digest_size=8).hexdigest()
        return "a:" + digest

    def viewers_message(self, stream_id: str) -> m.Message:
        return {"type": m.VIEWERS, "count": self.viewers.total(stream_id, self.clock()),
                "at": iso_utc(now_ms())}

    async def _viewers_loop(self) -> None:
        while True:
            await asyncio.sleep(VIEWERS_EVERY_SEC)
            try:
                now = self.clock()
                for stream_id, count in self.viewers.reports_due(now):
                    await self.recorder.broadcast(stream_id, {
                        "type": REPORT, "instance": self.bus.instance_id, "count": count})
                for stream_id, total in self.viewers.changed_totals(self.clock()):
                    self.hub.deliver(stream_id, {"type": m.VIEWERS, "count": total,
                                                 "at": iso_utc(now_ms())})
            except Exception:
                log.exception("viewer count failed")

    # -- health ----------------------------------------------------------------------

    def _read_counters(self, live: LiveStream) -> Counters:
        pipeline = self.pipelines(live.stream_id)
        drops: dict[str, int] = {}
        encoded: dict[str, int] = {}
        if pipeline is not None:
            health = pipeline.health()
            drops = dict(health.dropped_pictures)
            encoded = dict(health.encoded)
        return Counters(self.clock(), live.stats.bytes, live.stats.frames,
                        live.stats.video_frames, live.dropped_frames, drops, encoded)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.realtime.health_interval_sec)
            try:
                await self.sample_health()
            except Exception:
                log.exception("health sampling failed")

    async def sample_health(self) -> None:
        for live in self.registry.live_streams():
            stream_id = live.stream_id
            if not live.publishing:
                self._counters.pop(stream_id, None)
                continue
            after = self._read_counters(live)
            before = self._counters.get(stream_id)
            self._counters[stream_id] = after
            if before is None:
                continue
            health = sample(before, after)
            viewers = self.viewers.total(stream_id, self.clock())
            at = now_ms()
            await self.store.health.add(stream_id, at, health.bitrate_kbps, health.fps,
                                        health.drop_rate, viewers)
            await self.recorder.broadcast(stream_id, {
                "type": m.HEALTH, "at": iso_utc(at), "bitrateKbps": health.bitrate_kbps,
                "fps": health.fps, "dropRate": health.drop_rate, "viewers": viewers})

    # -- stream status ---------------------------------------------------------------

    def _stream_changed(self, live: LiveStream) -> None:
        if self._states.get(live.stream_id) == live.state:
            return
        self._states[live.stream_id] = live.state
        self._spawn(self._record_status(live.stream_id, live.state))

    async def _record_status(self, stream_id: str, state: str) -> None:
        try:
            await self.recorder.record(stream_id, {"type": m.STREAM_STATUS, "state": state,
                                                   "at": iso_utc(now_ms())})
        except Exception:
            log.exception("could not record a status change", extra={"fields": {
                "stream": stream_id, "state": state}})

    # -- housekeeping ----------------------------------------------------------------

    async def _prune_loop(self) -> None:
        config = self.config.realtime
        while True:
            try:
                now = now_ms()
                async with self.store.transaction():
                    await self.store.events.prune(now - config.event_retention_hours * 3_600_000)
                    await self.store.health.prune(now - config.health_retention_days * 86_400_000)
                    await self.store.player_metrics.prune(
                        now - self.config.api.metrics_retention_days * 86_400_000)
                    await self.store.refresh_tokens.prune(now)
            except Exception:
                log.exception("pruning failed")
            await asyncio.sleep(PRUNE_EVERY_SEC)
