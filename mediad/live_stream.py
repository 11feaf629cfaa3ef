"""One stream while the daemon holds it: its publisher, tracks, lifecycle state and readers.

``LiveStream`` is the only place that changes any of these. Each change is told, in order,
to the stream's readers (frames, track changes, discontinuities and ends, through their
bounded queues) and to the registry's subscribers (``mediad/stream_events.py``), so that a
publisher leaving, whatever the reason, is written once: ``detach``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from ingest.sink import TrackRefused
from mediad.fanout import Discontinuity, Reader, ReaderItem, StreamEnd, TrackChange
from mediad.lifecycle import Event, transition
from mediad.store.keys import KeyKind
from mediad.store.streams import StreamState
from mediad.stream_events import (
    BroadcastEnded,
    Departure,
    PublisherAttached,
    PublisherDetached,
    PublisherInfo,
    StateChanged,
    StreamEvent,
)

log = logging.getLogger("mediad.streams")

TrackCheck = Callable[[TrackInfo], str | None]
"""Why a track cannot be served, or None when it can."""


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

    def __init__(self, live: LiveStream, *, protocol: str, kind: KeyKind, peer: str,
                 disconnect: Callable[[str], None]) -> None:
        self.stream_id = live.stream_id
        self.live = live
        self.info = PublisherInfo(protocol, kind, peer)
        self._disconnect = disconnect
        self.attached = False
        """Feeding the stream now; only ``LiveStream`` changes it."""

    @property
    def protocol(self) -> str:
        return self.info.protocol

    @property
    def kind(self) -> KeyKind:
        return self.info.kind

    @property
    def peer(self) -> str:
        return self.info.peer

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
        """The ingest lost this publisher (see ``PublishSession.detach``)."""
        self.live.detach(self, Departure("disconnected", reason))

    def kick(self, reason: str) -> None:
        """Close this publisher's connection (the stream has let it go already)."""
        self._disconnect(reason)


@dataclass
class LiveStream:
    stream_id: str
    state: StreamState
    emit: Callable[[StreamEvent], None] = field(repr=False)
    """Where the stream's changes go (the registry, which stores and publishes them)."""
    clock: Callable[[], float] = field(repr=False)
    refuse_track: TrackCheck = field(repr=False)
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

    # -- publishers -----------------------------------------------------------------------

    def attach(self, publisher: Publisher) -> Publisher | None:
        """``publisher`` feeds the stream from now on. Returns the publisher it replaced
        (let go already: the caller closes its connection), or None."""
        previous = self.publisher
        if previous is not None:
            self._let_go(previous, Departure("taken_over", "taken over by the backup key"))
            self._offer(Discontinuity("backup key took over"))
        else:
            self.stats.started_at = self.clock()
        self.publisher = publisher
        publisher.attached = True
        self.ended_by_creator = False
        self.stats.publishers += 1
        self.emit(PublisherAttached(self.stream_id, publisher.info,
                                    previous.info if previous else None))
        self._transition("publisher_attached")
        return previous

    def detach(self, publisher: Publisher, departure: Departure) -> bool:
        """``publisher`` no longer feeds the stream; False if it was not feeding it."""
        if self.publisher is not publisher:
            publisher.attached = False
            return False
        self._let_go(publisher, departure)
        self._offer(StreamEnd(departure.description, final=departure.final))
        if departure.final:
            self._end(departure.description)
        else:
            self._transition("publisher_lost")
        return True

    def _let_go(self, publisher: Publisher, departure: Departure) -> None:
        log.info("publisher detached", extra={"fields": {
            "stream": self.stream_id, "protocol": publisher.protocol, "peer": publisher.peer,
            "reason": departure.description}})
        self.publisher = None
        publisher.attached = False
        self.tracks.clear()
        self.emit(PublisherDetached(self.stream_id, publisher.info, departure))

    # -- the lifecycle --------------------------------------------------------------------

    def go_live(self) -> StreamState:
        return self._transition("go_live")

    def end(self, departure: Departure) -> Publisher | None:
        """The creator ends the broadcast (or the stream is deleted): returns the publisher
        it let go, whose connection the caller closes."""
        publisher = self.publisher
        if publisher is not None:
            self.detach(publisher, departure)
        else:
            self._end(departure.description)
        return publisher

    def _end(self, reason: str) -> None:
        self.ended_by_creator = True
        self._transition("end")
        self.emit(BroadcastEnded(self.stream_id, reason))

    def _transition(self, event: Event) -> StreamState:
        state = transition(self.state, event, publishing=self.publishing)
        if state != self.state:
            previous, self.state = self.state, state
            self.emit(StateChanged(self.stream_id, state, previous))
        return state

    # -- media ----------------------------------------------------------------------------

    def announce_track(self, track: TrackInfo) -> None:
        if self.tracks.get(track.track_id) == track:
            return
        refusal = self.refuse_track(track)
        if refusal is not None:
            raise TrackRefused(refusal)
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
