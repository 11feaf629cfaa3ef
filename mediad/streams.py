"""The stream registry: who may publish, who is publishing, and who hears about it.

Keys are checked against the store (primary and backup, constant-time). A stream holds at
most one publisher per key kind: the first feeds it, the other key's waits as its hot
standby (``mediad/failover.py``). A second publisher on a key already in use is refused as
busy, unless the one there is stale (no media for ``failover.after_sec``: an encoder
reconnecting while its old TCP connection is half-open), which it then replaces. A
periodic check hands a stalled stream to its standby and drops publishers that send no
media. Each ``LiveStream`` changes its own state (``mediad/live_stream.py``); the registry
decides who may attach, keeps the store in step with every state change (in order, one
writer per stream) and hands out subscriptions to the typed change events (``subscribe``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingest.media import TrackInfo
from ingest.sink import Dropped, PublishRefused
from mediad.background import Periodic
from mediad.failover import Failover
from mediad.lifecycle import ON_AIR
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
                 refuse_track: TrackCheck = _serve_anything,
                 failover: Failover | None = None) -> None:
        self._store = store
        self._auto_live = auto_live
        self._clock = clock
        self._refuse_track = refuse_track
        self.failover = failover or Failover()
        self._watch = Periodic(self.check_publishers, self.failover.check_interval_sec,
                               log=log, failure="publisher check failed")
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
                refuse_track=self._refuse_track, failover=self.failover))
        return live

    def live_streams(self) -> list[LiveStream]:
        return list(self._streams.values())

    def publishers(self) -> list[Publisher]:
        """Every publisher, active and standby."""
        return [p for live in self._streams.values() for p in live.publishers]

    def _lock(self, stream_id: str) -> asyncio.Lock:
        """Per stream: two publishes of one stream take turns, other streams never wait."""
        return self._locks.setdefault(stream_id, asyncio.Lock())

    # -- publishing -----------------------------------------------------------------------

    async def start_publish(self, *, protocol: str, key: str, peer: str,
                            disconnect: Callable[[Dropped], None]) -> Publisher:
        found = await self._store.keys.find(key)
        if found is None:
            raise PublishRefused("bad_key", "unknown stream key")
        async with self._lock(found.stream_id):
            live = await self.live_stream(found.stream_id)
            if live is None:
                raise PublishRefused("bad_key", "unknown stream key")
            publisher = Publisher(live, protocol=protocol, kind=found.kind, peer=peer,
                                  disconnect=disconnect)
            self._admit(live, publisher)
            if self._auto_live and live.state == "preview":
                live.go_live()
            self._watch.start()
            await self._settle(live)
        log.info("publisher attached", extra={"fields": {
            "stream": live.stream_id, "protocol": protocol, "key": found.kind, "peer": peer,
            "role": publisher.role, "state": live.state}})
        return publisher

    def _admit(self, live: LiveStream, publisher: Publisher) -> None:
        """``publisher`` feeds ``live`` or waits as its standby, or is refused as busy."""
        same = live.holding(publisher.kind)
        if same is not None:
            quiet = same.quiet_for(self._clock())
            if quiet < self.failover.after_sec:
                raise PublishRefused("busy", f"this stream already has a {publisher.kind}-key"
                                     " publisher")
            why = (f"replaced by a new connection on the {publisher.kind} key (no media for"
                   f" {quiet:.1f} s)")
            log.info("stale publisher replaced", extra={"fields": {
                "stream": live.stream_id, "from": same.peer, "to": publisher.peer,
                "key": publisher.kind, "why": why}})
            if same is live.publisher and live.standby is None:
                live.take_over(publisher, Departure("taken_over", why))
                same.kick(Departure("taken_over", why))
                return
            self._drop(same, Departure("taken_over", why))  # an active one: to the standby
        if live.publisher is None:
            live.attach(publisher)
        else:
            live.add_standby(publisher)

    def disconnect_key(self, stream_id: str, kind: KeyKind, reason: str) -> bool:
        """Drop the publisher using a key that was just rotated."""
        live = self._streams.get(stream_id)
        publisher = live.holding(kind) if live else None
        if publisher is None:
            return False
        self._drop(publisher, Departure("key_rotated", reason))
        return True

    def _drop(self, publisher: Publisher, departure: Departure) -> None:
        """Let ``publisher`` go, then close its connection."""
        publisher.live.detach(publisher, departure)
        publisher.kick(departure)

    # -- the periodic check: stalls and silent publishers ---------------------------------

    async def check_publishers(self) -> None:
        """Hands each stalled stream to its standby and drops every publisher that sent
        no media for ``failover.media_timeout_sec`` (like a disconnect: the stream waits
        for it through the reconnect grace)."""
        now = self._clock()
        timeout = self.failover.media_timeout_sec
        for live in list(self._streams.values()):
            for publisher in live.silent(now):
                log.warning("publisher sent no media", extra={"fields": {
                    "stream": live.stream_id, "protocol": publisher.protocol,
                    "key": publisher.kind, "peer": publisher.peer, "role": publisher.role,
                    "timeout_sec": timeout}})
                self._drop(publisher, Departure("disconnected", f"no media for {timeout:g} s"))
            live.fail_over_if_stalled(now)

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

    async def unpublished(self, stream_id: str) -> bool:
        """At start: whether the stream has no publisher; a stream stored as ``live`` that
        has none (the daemon stopped under it, ``kill -9`` included) is ``reconnecting``
        from now on, as if its publisher had just left."""
        live = await self.live_stream(stream_id)
        if live is None:
            return False
        async with self._lock(stream_id):
            if live.publishing:
                return False
            live.lose_publisher()
            await self._settle(live)
        return True

    async def end_unpublished(self, stream_id: str, reason: str) -> bool:
        """Ends a broadcast still on air without a publisher (``mediad/reconnect_grace.py``:
        the grace passed); False when one came back meanwhile or there is nothing to end.
        Under the stream's lock: an attach at that moment either wins or starts anew."""
        live = await self.live_stream(stream_id)
        if live is None:
            return False
        async with self._lock(stream_id):
            if live.publishing or live.state not in ON_AIR:
                return False
            await self._end(live, Departure("ended", reason))
        return True

    async def forget(self, stream_id: str) -> None:
        """A deleted stream: its publisher is dropped and its viewers told it ended."""
        live = await self.live_stream(stream_id)
        if live is not None:
            await self._end(live, Departure("deleted", "stream deleted"))
        self._streams.pop(stream_id, None)
        self._locks.pop(stream_id, None)
        self._emit(StreamRemoved(stream_id))

    async def _end(self, live: LiveStream, departure: Departure) -> None:
        for publisher in live.end(departure):
            publisher.kick(departure)
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
        """Drop every publisher (standbys first: nothing takes over) and wait for the
        state writes to reach the store."""
        await self._watch.stop()
        for live in list(self._streams.values()):
            for publisher in live.publishers[::-1]:
                self._drop(publisher, Departure("shutdown", "server shutting down"))
        await asyncio.gather(*(w.writer for w in self._writes.values() if w.writer))
