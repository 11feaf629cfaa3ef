"""The stream registry: who may publish, who is publishing, and who reads.

Keys are checked against the store (primary and backup, constant-time). One publisher per
stream: a second one with the same kind of key is refused as busy, while the backup key
takes a stream over from the primary without ending it. Frames fan out through bounded
``Reader`` queues, so the socket that delivers them never waits for a consumer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from ingest.sink import PublishRefused
from mediad.fanout import Discontinuity, Reader, ReaderItem, StreamEnd, TrackChange
from mediad.lifecycle import Event, transition
from mediad.store import Store
from mediad.store.keys import KeyKind
from mediad.store.streams import StreamState

log = logging.getLogger("mediad.streams")


@dataclass
class IngestStats:
    """Counters the health channel turns into rates."""

    frames: int = 0
    video_frames: int = 0
    bytes: int = 0
    publishers: int = 0
    started_at: float = 0.0


class Publisher:
    """The registry's side of one accepted publisher (implements ``PublishSession``)."""

    def __init__(self, live: LiveStream, registry: StreamRegistry, *, protocol: str,
                 kind: KeyKind, peer: str, disconnect: Callable[[str], None]) -> None:
        self.stream_id = live.stream_id
        self.live = live
        self.protocol = protocol
        self.kind = kind
        self.peer = peer
        self._registry = registry
        self._disconnect = disconnect
        self.attached = True

    def announce_track(self, track: TrackInfo) -> None:
        if self.attached:
            self.live.announce_track(track)

    def push_frame(self, frame: Frame) -> None:
        if self.attached:
            self.live.push(frame)

    def set_metadata(self, metadata: Mapping[str, object]) -> None:
        if self.attached:
            self.live.metadata = dict(metadata)

    def count_bytes(self, received: int) -> None:
        if self.attached:
            self.live.stats.bytes += received

    def detach(self, reason: str) -> None:
        if self.attached:
            self.attached = False
            self._registry._publisher_lost(self, reason)

    def kick(self, reason: str) -> None:
        """Drop this publisher on the registry's initiative."""
        self.attached = False
        self._disconnect(reason)


@dataclass
class LiveStream:
    stream_id: str
    state: StreamState
    publisher: Publisher | None = None
    tracks: dict[int, TrackInfo] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    readers: set[Reader] = field(default_factory=set)
    stats: IngestStats = field(default_factory=IngestStats)
    ended_by_creator: bool = False
    """Ended on purpose: viewers get the end now, not after a reconnect grace period."""
    _gone_readers_dropped: int = 0

    @property
    def publishing(self) -> bool:
        return self.publisher is not None

    @property
    def dropped_frames(self) -> int:
        return self._gone_readers_dropped + sum(r.dropped_frames for r in self.readers)

    def announce_track(self, track: TrackInfo) -> None:
        if self.tracks.get(track.track_id) == track:
            return
        self.tracks[track.track_id] = track
        self._offer(TrackChange(track))

    def push(self, frame: Frame) -> None:
        self.stats.frames += 1
        if frame.is_video:
            self.stats.video_frames += 1
        self._offer(frame)

    def _offer(self, item: ReaderItem) -> None:
        for reader in self.readers:
            reader.offer(item)

    def add_reader(self, name: str, capacity: int = 600) -> Reader:
        reader = Reader(name, capacity)
        for track in self.tracks.values():
            reader.offer(TrackChange(track))
        self.readers.add(reader)
        return reader

    def remove_reader(self, reader: Reader) -> None:
        if reader in self.readers:
            self.readers.discard(reader)
            self._gone_readers_dropped += reader.dropped_frames
        reader.close()


class StreamRegistry:
    """Implements ``ingest.sink.PublishSink`` for every ingest protocol."""

    def __init__(self, store: Store, *, auto_live: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._auto_live = auto_live
        self._clock = clock
        self._streams: dict[str, LiveStream] = {}
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Task[None]] = set()
        self.listeners: list[Callable[[LiveStream], None]] = []
        """Called on every state or publisher change (health, status broadcasts)."""

    def get(self, stream_id: str) -> LiveStream | None:
        return self._streams.get(stream_id)

    async def live_stream(self, stream_id: str) -> LiveStream | None:
        """The in-memory stream, loaded from the store on first use."""
        live = self._streams.get(stream_id)
        if live is None:
            stream = await self._store.streams.get(stream_id)
            if stream is None:
                return None
            live = self._streams.setdefault(stream_id, LiveStream(stream_id, stream.state))
        return live

    async def start_publish(self, *, protocol: str, key: str, peer: str,
                            disconnect: Callable[[str], None]) -> Publisher:
        found = await self._store.keys.find(key)
        if found is None:
            raise PublishRefused("bad_key", "unknown stream key")
        async with self._lock:
            live = await self.live_stream(found.stream_id)
            if live is None:
                raise PublishRefused("bad_key", "unknown stream key")
            current = live.publisher
            if current is not None and not (found.kind == "backup" and current.kind == "primary"):
                raise PublishRefused("busy", "this stream already has a publisher")
            publisher = Publisher(live, self, protocol=protocol, kind=found.kind, peer=peer,
                                  disconnect=disconnect)
            live.publisher = publisher
            live.ended_by_creator = False
            live.stats.publishers += 1
            if current is not None:
                current.kick("taken over by the backup key")
                live.tracks.clear()
                live._offer(Discontinuity("backup key took over"))
                log.info("backup took over", extra={"fields": {
                    "stream": live.stream_id, "from": current.peer, "to": peer}})
            else:
                live.stats.started_at = self._clock()
            await self._transition(live, "publisher_attached")
            if self._auto_live and live.state == "preview":
                await self._transition(live, "go_live")
        log.info("publisher attached", extra={"fields": {
            "stream": live.stream_id, "protocol": protocol, "key": found.kind, "peer": peer,
            "state": live.state}})
        return publisher

    def _publisher_lost(self, publisher: Publisher, reason: str) -> None:
        live = publisher.live
        log.info("publisher detached", extra={"fields": {
            "stream": live.stream_id, "protocol": publisher.protocol, "peer": publisher.peer,
            "reason": reason}})
        if live.publisher is not publisher:
            return
        live.publisher = None
        live.tracks.clear()
        live._offer(StreamEnd(reason))
        self._set_state_soon(live, transition(live.state, "publisher_lost", publishing=False))

    async def go_live(self, stream_id: str) -> StreamState:
        live = await self.live_stream(stream_id)
        if live is None:
            raise KeyError(stream_id)
        return await self._transition(live, "go_live")

    async def end(self, stream_id: str, reason: str = "ended by the creator") -> StreamState:
        live = await self.live_stream(stream_id)
        if live is None:
            raise KeyError(stream_id)
        live.ended_by_creator = True
        publisher = live.publisher
        if publisher is not None:
            live.publisher = None
            publisher.kick(reason)
            live.tracks.clear()
            live._offer(StreamEnd(reason, final=True))
        before = live.state
        state = await self._transition(live, "end")
        if state == before:
            self._notify(live)  # already ended by a lost publisher: now the end is final
        return state

    async def forget(self, stream_id: str) -> None:
        """A deleted stream: its publisher is dropped and its viewers told it ended."""
        if await self.live_stream(stream_id) is not None:
            await self.end(stream_id, "stream deleted")
        self._streams.pop(stream_id, None)

    def disconnect_key(self, stream_id: str, kind: KeyKind, reason: str) -> bool:
        """Drop the publisher using a key that was just rotated."""
        live = self._streams.get(stream_id)
        publisher = live.publisher if live else None
        if publisher is None or publisher.kind != kind:
            return False
        publisher.kick(reason)
        self._publisher_lost(publisher, reason)
        return True

    async def _transition(self, live: LiveStream, event: Event) -> StreamState:
        state = transition(live.state, event, publishing=live.publishing)
        if state != live.state:
            live.state = state
            await self._store.streams.set_state(live.stream_id, state)
            self._notify(live)
        return state

    def _set_state_soon(self, live: LiveStream, state: StreamState) -> None:
        """From synchronous code (a publisher's detach): in memory now, stored next."""
        if state == live.state:
            return
        live.state = state
        self._notify(live)
        task = asyncio.get_running_loop().create_task(self._store_state(live.stream_id, state))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _store_state(self, stream_id: str, state: StreamState) -> None:
        try:
            await self._store.streams.set_state(stream_id, state)
        except Exception:
            log.exception("could not store stream state", extra={"fields": {
                "stream": stream_id, "state": state}})

    def _notify(self, live: LiveStream) -> None:
        for listener in self.listeners:
            listener(live)

    def live_streams(self) -> list[LiveStream]:
        return list(self._streams.values())

    def publishers(self) -> list[Publisher]:
        return [live.publisher for live in self._streams.values() if live.publisher]

    async def close(self) -> None:
        """Drop every publisher and wait for the state writes to reach the store."""
        for publisher in self.publishers():
            publisher.kick("server shutting down")
            self._publisher_lost(publisher, "server shutting down")
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
