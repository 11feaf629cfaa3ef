"""The reconnect grace: a live stream whose publisher left is ``reconnecting`` for
``streams.reconnect_grace_sec``, then ends unless a publisher came back.

A service subscribed to the registry's events (the timer lives with the lifecycle, not
with any reader of the stream): a publisher leaving without ending the broadcast starts
the stream's timer, a publisher attaching (or the broadcast ending) stops it. When it runs
out, ``StreamRegistry.end_unpublished`` ends the stream if it is still without a publisher,
under the stream's lock, so an encoder attaching at that moment either wins or starts a new
broadcast. The end is the registry's ``BroadcastEnded``, which the packager turns into
EXT-X-ENDLIST. Streams the store holds as on air when the daemon starts (it stopped while
they were) get the same grace: encoders that reconnect to the restarted daemon go on.
"""

from __future__ import annotations

import asyncio
import logging

from mediad.background import Tasks
from mediad.lifecycle import ON_AIR
from mediad.store import Store
from mediad.stream_events import (
    BroadcastEnded,
    PublisherAttached,
    PublisherDetached,
    StreamEvent,
    StreamRemoved,
    Subscription,
)
from mediad.streams import StreamRegistry

log = logging.getLogger("mediad.streams")

GRACE_PASSED = "the publisher did not come back"


class ReconnectGrace:
    def __init__(self, registry: StreamRegistry, store: Store, grace_sec: float) -> None:
        self._registry = registry
        self._store = store
        self.grace_sec = grace_sec
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._events: Subscription | None = None
        self._tasks = Tasks()

    @property
    def waiting(self) -> set[str]:
        """The streams whose grace is running."""
        return set(self._timers)

    async def start(self) -> None:
        # Subscribed before reading the store: an attach meanwhile is queued and cancels.
        events = self._events = self._registry.subscribe("reconnect grace")
        for stream in await self._store.streams.list():
            if stream.state in ON_AIR and await self._registry.unpublished(stream.id):
                self._start_timer(stream.id)
        self._tasks.spawn(self._follow(events))

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await self._tasks.cancel_all()

    async def _follow(self, events: Subscription) -> None:
        async for event in events:
            self.stream_changed(event)

    def stream_changed(self, event: StreamEvent) -> None:
        if isinstance(event, PublisherDetached) and not event.departure.final:
            self._start_timer(event.stream_id)
        elif isinstance(event, PublisherAttached | BroadcastEnded | StreamRemoved):
            self._stop_timer(event.stream_id)

    def _start_timer(self, stream_id: str) -> None:
        self._stop_timer(stream_id)
        self._timers[stream_id] = asyncio.get_running_loop().call_later(
            self.grace_sec, self._expired, stream_id)

    def _stop_timer(self, stream_id: str) -> None:
        timer = self._timers.pop(stream_id, None)
        if timer is not None:
            timer.cancel()

    def _expired(self, stream_id: str) -> None:
        self._timers.pop(stream_id, None)
        self._tasks.spawn(self._end(stream_id))

    async def _end(self, stream_id: str) -> None:
        try:
            ended = await self._registry.end_unpublished(stream_id, GRACE_PASSED)
        except Exception:
            log.exception("could not end a stream after its reconnect grace", extra={
                "fields": {"stream": stream_id}})
            return
        if ended:
            log.info("stream ended: no publisher within the reconnect grace", extra={
                "fields": {"stream": stream_id, "grace_sec": self.grace_sec}})
