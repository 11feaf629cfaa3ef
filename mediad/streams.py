"""The stream registry: who may publish, who is publishing, and who hears about it.

Keys are checked against the store (primary and backup, constant-time). One publisher per
stream: a second one with the same kind of key is refused as busy, while the backup key
takes a stream over from the primary without ending it. Each ``LiveStream`` changes its own
state (``mediad/live_stream.py``); the registry decides who may attach, keeps the store in
step with every state change (in order, one writer per stream) and hands out subscriptions to the
typed change events (``subscribe``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingest.media import TrackInfo
from ingest.sink import PublishRefused
from mediad.live_stream import IngestStats, LiveStream, Publisher, TrackCheck
from mediad.store import Store
from mediad.store.keys import KeyKind
from mediad.store.streams import StreamState
from mediad.stream_events import (
    Departure,
    PublisherAttached,
    StateChanged,
    StreamEvent,
    StreamEvents,
    StreamRemoved,
    Subscription,
)

__all__ = ["IngestStats", "LiveStream", "Publisher", "StreamRegistry"]

log = logging.getLogger("mediad.streams")


def _serve_anything(track: TrackInfo) -> str | None:
    return None


@dataclass
class _StateWrites:
    """One stream's state changes on their way to the store."""

    latest: StreamState
    changes: int = 0
    written: int = 0
    writer: asyncio.Task[None] | None = None


class StreamRegistry:
    """Implements ``ingest.sink.PublishSink`` for every ingest protocol."""

    def __init__(self, store: Store, *, auto_live: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 refuse_track: TrackCheck = _serve_anything) -> None:
        self._store = store
        self._auto_live = auto_live
        self._clock = clock
        self._refuse_track = refuse_track
        self._streams: dict[str, LiveStream] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._events = StreamEvents()
        self._writes: dict[str, _StateWrites] = {}
        self._settled = asyncio.Condition()

    # -- subscriptions --------------------------------------------------------------------

    def subscribe(self, name: str) -> Subscription:
        """Every change from now on, after one ``PublisherAttached`` per stream that has a
        publisher already (so a late subscriber starts from the present)."""
        return self._events.subscribe(name, replay=[
            PublisherAttached(live.stream_id, live.publisher.info)
            for live in self._streams.values() if live.publisher is not None])

    def _emit(self, event: StreamEvent) -> None:
        if isinstance(event, StateChanged):
            self._write_soon(event)
        self._events.publish(event)

    # -- streams --------------------------------------------------------------------------

    def get(self, stream_id: str) -> LiveStream | None:
        return self._streams.get(stream_id)

    async def live_stream(self, stream_id: str) -> LiveStream | None:
        """The in-memory stream, loaded from the store on first use."""
        live = self._streams.get(stream_id)
        if live is None:
            stream = await self._store.streams.get(stream_id)
            if stream is None:
                return None
            live = self._streams.setdefault(stream_id, LiveStream(
                stream_id, stream.state, emit=self._emit, clock=self._clock,
                refuse_track=self._refuse_track))
        return live

    def live_streams(self) -> list[LiveStream]:
        return list(self._streams.values())

    def publishers(self) -> list[Publisher]:
        return [live.publisher for live in self._streams.values() if live.publisher]

    def _lock(self, stream_id: str) -> asyncio.Lock:
        """Per stream: two publishes of one stream take turns, other streams never wait."""
        return self._locks.setdefault(stream_id, asyncio.Lock())

    # -- publishing -----------------------------------------------------------------------

    async def start_publish(self, *, protocol: str, key: str, peer: str,
                            disconnect: Callable[[str], None]) -> Publisher:
        found = await self._store.keys.find(key)
        if found is None:
            raise PublishRefused("bad_key", "unknown stream key")
        async with self._lock(found.stream_id):
            live = await self.live_stream(found.stream_id)
            if live is None:
                raise PublishRefused("bad_key", "unknown stream key")
            current = live.publisher
            if current is not None and not (found.kind == "backup" and current.kind == "primary"):
                raise PublishRefused("busy", "this stream already has a publisher")
            publisher = Publisher(live, protocol=protocol, kind=found.kind, peer=peer,
                                  disconnect=disconnect)
            replaced = live.attach(publisher)
            if replaced is not None:
                replaced.kick("taken over by the backup key")
                log.info("backup took over", extra={"fields": {
                    "stream": live.stream_id, "from": replaced.peer, "to": peer}})
            if self._auto_live and live.state == "preview":
                live.go_live()
            await self._settle(live)
        log.info("publisher attached", extra={"fields": {
            "stream": live.stream_id, "protocol": protocol, "key": found.kind, "peer": peer,
            "state": live.state}})
        return publisher

    def disconnect_key(self, stream_id: str, kind: KeyKind, reason: str) -> bool:
        """Drop the publisher using a key that was just rotated."""
        live = self._streams.get(stream_id)
        publisher = live.publisher if live else None
        if live is None or publisher is None or publisher.kind != kind:
            return False
        self._drop(publisher, Departure("key_rotated", reason))
        return True

    def _drop(self, publisher: Publisher, departure: Departure) -> None:
        """Let ``publisher`` go, then close its connection."""
        publisher.live.detach(publisher, departure)
        publisher.kick(departure.description)

    # -- the creator's lifecycle ----------------------------------------------------------

    async def go_live(self, stream_id: str) -> StreamState:
        live = await self._require(stream_id)
        state = live.go_live()
        await self._settle(live)
        return state

    async def end(self, stream_id: str, reason: str = "ended by the creator") -> StreamState:
        live = await self._require(stream_id)
        await self._end(live, Departure("ended", reason))
        return live.state

    async def forget(self, stream_id: str) -> None:
        """A deleted stream: its publisher is dropped and its viewers told it ended."""
        live = await self.live_stream(stream_id)
        if live is not None:
            await self._end(live, Departure("deleted", "stream deleted"))
        self._streams.pop(stream_id, None)
        self._locks.pop(stream_id, None)
        self._emit(StreamRemoved(stream_id))

    async def _end(self, live: LiveStream, departure: Departure) -> None:
        publisher = live.end(departure)
        if publisher is not None:
            publisher.kick(departure.description)
        await self._settle(live)

    async def _require(self, stream_id: str) -> LiveStream:
        live = await self.live_stream(stream_id)
        if live is None:
            raise KeyError(stream_id)
        return live

    # -- the store follows every state change, in order, one writer per stream ---------

    def _write_soon(self, change: StateChanged) -> None:
        writes = self._writes.setdefault(change.stream_id, _StateWrites(change.state))
        writes.latest = change.state
        writes.changes += 1
        if writes.writer is None:
            writes.writer = asyncio.get_running_loop().create_task(
                self._write_states(change.stream_id, writes))

    async def _write_states(self, stream_id: str, writes: _StateWrites) -> None:
        """Writes the latest state until the store has caught up (states that came and
        went meanwhile are not written)."""
        try:
            while (changes := writes.changes) > writes.written:
                state = writes.latest
                try:
                    await self._store.streams.set_state(stream_id, state)
                except Exception:
                    log.exception("could not store stream state", extra={"fields": {
                        "stream": stream_id, "state": state}})
                async with self._settled:
                    writes.written = changes
                    self._settled.notify_all()
        finally:
            writes.writer = None

    async def _settle(self, live: LiveStream) -> None:
        """Until the store holds the state ``live`` has now."""
        stream_id = live.stream_id
        writes = self._writes.get(stream_id)
        if writes is None:
            return
        async with self._settled:
            await self._settled.wait_for(lambda: writes.written >= writes.changes)

    async def close(self) -> None:
        """Drop every publisher and wait for the state writes to reach the store."""
        for publisher in self.publishers():
            self._drop(publisher, Departure("shutdown", "server shutting down"))
        await asyncio.gather(*(w.writer for w in self._writes.values() if w.writer))
