"""One stream while the daemon holds it: its publishers, tracks, lifecycle state and readers.

``LiveStream`` is the only place that changes any of these. Each change is told, in order,
to the stream's readers (frames, track changes, discontinuities and ends, through their
bounded queues) and to the registry's subscribers (``mediad/stream_events.py``), so that a
publisher leaving, whatever the reason, is written once: ``detach``.

Hot standby (``mediad/failover.py``): besides the active publisher (``publisher``) a
stream may hold a standby of the other key kind. A takeover (``take_over``) is one
change: the readers get a ``Discontinuity``, the new publisher's tracks and its warm GOP;
subscribers a departure and a ``PublisherAttached`` with ``replaced``; the state stays
what it was (a takeover is not a publisher loss).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from ingest.sink import TrackRefused
from mediad.failover import Failover
from mediad.fanout import Discontinuity, Reader, ReaderItem, StreamEnd, TrackChange
from mediad.lifecycle import Event, transition
from mediad.publisher import Publisher
from mediad.store.keys import KeyKind
from mediad.store.streams import StreamState
from mediad.stream_events import (
    BroadcastEnded,
    Departure,
    PublisherAttached,
    PublisherDetached,
    StateChanged,
    StreamEvent,
)

__all__ = ["IngestStats", "LiveStream", "Publisher", "TrackCheck"]

log = logging.getLogger("mediad.streams")

TrackCheck = Callable[[TrackInfo], str | None]
"""Why a track cannot be served, or None when it can."""


@dataclass
class IngestStats:
    """Counters the health channel turns into rates (what fed the stream)."""

    frames: int = 0
    video_frames: int = 0
    bytes: int = 0
    publishers: int = 0
    reconnects: int = 0
    """Publishers that attached after the broadcast lost its previous one."""
    takeovers: int = 0
    """Publishers that replaced the active one without a loss (a standby promoted, a
    stalled connection replaced)."""
    started_at: float = 0.0


@dataclass
class LiveStream:
    stream_id: str
    state: StreamState
    emit: Callable[[StreamEvent], None] = field(repr=False)
    """Where the stream's changes go (the registry, which stores and publishes them)."""
    clock: Callable[[], float] = field(repr=False)
    refuse_track: TrackCheck = field(repr=False)
    failover: Failover = field(repr=False)
    publisher: Publisher | None = None
    """The active publisher: the one feeding the stream."""
    standby: Publisher | None = None
    """The other key kind's publisher, held ready; only while there is an active one."""
    metadata: dict[str, object] = field(default_factory=dict)
    readers: set[Reader] = field(default_factory=set)
    stats: IngestStats = field(default_factory=IngestStats)
    ended_by_creator: bool = False
    """Ended on purpose: viewers get the end now, not after a reconnect grace period."""
    _gone_readers_dropped: int = 0
    _broadcast_fed: bool = False
    """A publisher fed this broadcast already (one attaching now is a reconnect)."""

    @property
    def publishing(self) -> bool:
        return self.publisher is not None

    @property
    def tracks(self) -> dict[int, TrackInfo]:
        """The active publisher's tracks."""
        return self.publisher.tracks if self.publisher is not None else {}

    @property
    def publishers(self) -> list[Publisher]:
        """The active publisher, then the standby."""
        return [p for p in (self.publisher, self.standby) if p is not None]

    def holding(self, kind: KeyKind) -> Publisher | None:
        """The publisher on a key of ``kind``, active or standby."""
        return next((p for p in self.publishers if p.kind == kind), None)

    @property
    def dropped_frames(self) -> int:
        return self._gone_readers_dropped + sum(r.dropped_frames for r in self.readers)

    # -- publishers -----------------------------------------------------------------------

    def attach(self, publisher: Publisher) -> None:
        """``publisher`` feeds the stream, which had no publisher."""
        if self.publisher is not None:
            raise RuntimeError("the stream has an active publisher: take_over or add_standby")
        self.stats.started_at = self.clock()
        if self.state == "reconnecting" or (self.state != "ended" and self._broadcast_fed):
            self.stats.reconnects += 1  # reconnecting: also a restart under a live stream
        self._activate(publisher)
        self.emit(PublisherAttached(self.stream_id, publisher.info))
        self._transition("publisher_attached")

    def add_standby(self, publisher: Publisher) -> None:
        """``publisher`` waits, warm, to take over from the active one."""
        if self.publisher is None or self.standby is not None:
            raise RuntimeError("a standby needs an active publisher and a free place")
        publisher.role = "standby"
        publisher.warm.clear()
        self.standby = publisher
        log.info("standby publisher waiting", extra={"fields": {
            "stream": self.stream_id, "protocol": publisher.protocol, "key": publisher.kind,
            "peer": publisher.peer, "active": self.publisher.peer}})

    def take_over(self, new: Publisher, departure: Departure) -> Publisher:
        """``new`` (the standby, or a new connection) feeds the stream from now on; the
        active publisher leaves with ``departure``: as the standby when it is
        ``demoted``, else let go (the caller closes its connection). Returns it."""
        old = self.publisher
        if old is None or new is old:
            raise RuntimeError("a takeover needs another, active publisher")
        warm: list[Frame] = []
        if new is self.standby:
            warm = new.warm.take()
            self.standby = None
        self._let_go(old, departure)
        if departure.kind == "demoted":
            old.role = "standby"
            old.warm.clear()
            self.standby = old
        log.info("publisher took over", extra={"fields": {
            "stream": self.stream_id, "from": old.peer, "from_key": old.kind,
            "to": new.peer, "to_key": new.kind, "why": departure.description,
            "warm_frames": len(warm)}})
        self.stats.takeovers += 1
        self._activate(new)
        self._offer(Discontinuity(f"the {new.kind} key took over ({departure.description})"))
        for track in new.tracks.values():
            self._offer(TrackChange(track))
        for frame in warm:  # as they arrived (arrival stamps included), from the keyframe
            self._offer(frame)
        self.emit(PublisherAttached(self.stream_id, new.info, old.info))
        self._transition("publisher_attached")
        return old

    def detach(self, publisher: Publisher, departure: Departure) -> bool:
        """``publisher`` leaves the stream; False if it had left already. The active one
        leaving for a reason that does not end the broadcast hands over to the standby."""
        if publisher is self.standby:
            self._drop_standby(departure)
            return True
        if publisher is not self.publisher:
            publisher.role = None
            return False
        standby = self.standby
        if standby is not None and not departure.final:
            self.take_over(standby, departure)
            return True
        if standby is not None:  # ``end`` lets the standby go first; this is a fallback
            self._drop_standby(departure)
        self._let_go(publisher, departure)
        self._offer(StreamEnd(departure.description, final=departure.final))
        if departure.final:
            self._end(departure.description)
        else:
            self._transition("publisher_lost")
        return True

    def _activate(self, publisher: Publisher) -> None:
        publisher.role = "active"
        publisher.warm.clear()
        self.publisher = publisher
        self.metadata = publisher.metadata
        self.ended_by_creator = False
        self._broadcast_fed = True
        self.stats.publishers += 1

    def _let_go(self, publisher: Publisher, departure: Departure) -> None:
        log.info("publisher detached", extra={"fields": {
            "stream": self.stream_id, "protocol": publisher.protocol, "peer": publisher.peer,
            "reason": departure.description}})
        self.publisher = None
        publisher.role = None
        self.emit(PublisherDetached(self.stream_id, publisher.info, departure))

    def _drop_standby(self, departure: Departure) -> None:
        standby = self.standby
        if standby is None:
            return
        log.info("standby publisher dropped", extra={"fields": {
            "stream": self.stream_id, "protocol": standby.protocol, "key": standby.kind,
            "peer": standby.peer, "reason": departure.description}})
        standby.role = None
        standby.warm.clear()
        self.standby = None

    # -- failover -------------------------------------------------------------------------

    def fail_over_if_stalled(self, now: float) -> bool:
        """The active publisher sent no media for ``failover.after_sec``: a standby that
        is sending, warm from a keyframe, takes over and the stalled one waits as the
        standby. (A standby not warm yet takes over at its next keyframe: ``push``.)"""
        active, standby = self.publisher, self.standby
        if active is None or standby is None or not standby.warm.ready:
            return False
        quiet = active.quiet_for(now)
        after = self.failover.after_sec
        if quiet < after or standby.quiet_for(now) >= after:
            return False
        self.take_over(standby, Departure("demoted", f"stalled: no media for {quiet:.1f} s"))
        return True

    def silent(self, now: float) -> list[Publisher]:
        """Publishers (the standby first) that sent no media for ``media_timeout_sec``."""
        timeout = self.failover.media_timeout_sec
        return [p for p in (self.standby, self.publisher)
                if p is not None and p.quiet_for(now) >= timeout]

    def _takes_over(self, standby: Publisher) -> str | None:
        """Why ``standby``, at a keyframe now, takes over; None: it keeps waiting."""
        active = self.publisher
        if active is None:
            return None
        quiet = active.quiet_for(self.clock())
        if quiet >= self.failover.after_sec:
            return f"stalled: no media for {quiet:.1f} s"
        if (self.failover.prefer_primary and standby.kind == "primary"
                and active.kind == "backup"):
            return "the primary key is back"
        return None

    # -- the lifecycle --------------------------------------------------------------------

    def lose_publisher(self) -> StreamState:
        """The stream has no publisher although its state says one was there (it was loaded
        from the store after a restart): the lifecycle's publisher loss, with no departure
        to tell."""
        if self.publisher is not None:
            raise RuntimeError("the stream has a publisher")
        return self._transition("publisher_lost")

    def go_live(self) -> StreamState:
        return self._transition("go_live")

    def end(self, departure: Departure) -> list[Publisher]:
        """The creator ends the broadcast (or the stream is deleted): returns the
        publishers it let go (the standby first), whose connections the caller closes."""
        let_go = self.publishers[::-1]
        self._drop_standby(departure)
        if self.publisher is not None:
            self.detach(self.publisher, departure)
        else:
            self._end(departure.description)
        return let_go

    def _end(self, reason: str) -> None:
        self.ended_by_creator = True
        self._broadcast_fed = False
        self._transition("end")
        self.emit(BroadcastEnded(self.stream_id, reason))

    def _transition(self, event: Event) -> StreamState:
        state = transition(self.state, event, publishing=self.publishing)
        if state != self.state:
            previous, self.state = self.state, state
            self.emit(StateChanged(self.stream_id, state, previous))
        return state

    # -- media ----------------------------------------------------------------------------

    def announce_track(self, publisher: Publisher, track: TrackInfo) -> None:
        if publisher.tracks.get(track.track_id) == track:
            return
        refusal = self.refuse_track(track)
        if refusal is not None:
            raise TrackRefused(refusal)
        if track.track_id in publisher.tracks and publisher is self.standby:
            publisher.warm.clear()  # frames of the old parameters: the new ones start anew
        publisher.tracks[track.track_id] = track
        if track.kind == "video":
            publisher.warm.has_video = True
        if publisher is self.publisher:
            self._offer(TrackChange(track))

    def push(self, publisher: Publisher, frame: Frame) -> None:
        if publisher is self.publisher:
            self.stats.frames += 1
            if frame.is_video:
                self.stats.video_frames += 1
            self._offer(frame)
        elif publisher is self.standby and publisher.warm.push(frame):
            why = self._takes_over(publisher)
            if why is not None:
                self.take_over(publisher, Departure("demoted", why))

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
