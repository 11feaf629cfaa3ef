"""The stream status service: each change of a stream's state (preview, live, reconnecting,
ended; ``mediad/lifecycle.py``) is recorded as a durable ``stream.status`` message, so every
client hears it, in order: players keep the picture through ``reconnecting`` and end on
``ended``."""

from __future__ import annotations

import logging

from mediad.background import Tasks
from mediad.clock import iso_utc, now_ms
from mediad.realtime import messages as m
from mediad.realtime.recorder import Recorder
from mediad.stream_events import StateChanged, StreamEvent, Subscription
from mediad.streams import StreamRegistry

log = logging.getLogger("mediad.realtime")


class StreamStatus:
    def __init__(self, registry: StreamRegistry, recorder: Recorder) -> None:
        self._registry = registry
        self._recorder = recorder
        self._events: Subscription | None = None
        self._reader = Tasks()

    async def start(self) -> None:
        self._events = self._registry.subscribe("realtime stream status")
        self._reader.spawn(self._follow(self._events))

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        await self._reader.cancel_all()

    async def _follow(self, events: Subscription) -> None:
        async for event in events:
            await self.stream_changed(event)

    async def stream_changed(self, event: StreamEvent) -> None:
        """One change in the registry (the one place real-time reacts to the registry).
        ``StateChanged`` comes only when the state really changed: each is recorded."""
        if not isinstance(event, StateChanged):
            return
        try:
            await self._recorder.record(event.stream_id, {
                "type": m.STREAM_STATUS, "state": event.state, "at": iso_utc(now_ms())})
        except Exception:
            log.exception("could not record a status change", extra={"fields": {
                "stream": event.stream_id, "state": event.state}})
