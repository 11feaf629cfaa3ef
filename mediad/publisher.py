"""The registry's side of one accepted publisher (``ingest.sink.PublishSession``).

What it sends goes to its ``LiveStream`` according to its role there: the *active*
publisher feeds the stream; the *standby* keeps its tracks, metadata and its frames since
its last keyframe warm for a takeover; a publisher let go (``role`` None) is ignored until
its connection closes. Every publisher counts what it sent and when its last media frame
came: the failover checks and the health channel read those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from ingest.media import Frame, TrackInfo
from ingest.sink import Dropped
from mediad.store.keys import KeyKind
from mediad.stream_events import Departure, PublisherInfo
from mediad.warm_gop import WarmGop

if TYPE_CHECKING:
    from mediad.live_stream import LiveStream

Role = Literal["active", "standby"]


class Publisher:
    def __init__(self, live: LiveStream, *, protocol: str, kind: KeyKind, peer: str,
                 disconnect: Callable[[Dropped], None]) -> None:
        self.stream_id = live.stream_id
        self.live = live
        self.info = PublisherInfo(protocol, kind, peer)
        self._disconnect = disconnect
        self.role: Role | None = None
        """Only ``LiveStream`` changes it."""
        self.tracks: dict[int, TrackInfo] = {}
        self.metadata: dict[str, object] = {}
        self.warm = WarmGop()
        self.attached_at = live.clock()
        self.last_media = self.attached_at
        """When its last media frame came (its attach until the first one)."""
        self.frames = 0
        self.video_frames = 0
        self.bytes = 0
        self.request_keyframe: Callable[[], None] | None = None
        """Asks the encoder for a keyframe now (a WHIP publisher: an RTCP PLI), set by an
        ingest whose protocol can; a WHEP viewer joining calls it."""

    @property
    def protocol(self) -> str:
        return self.info.protocol

    @property
    def kind(self) -> KeyKind:
        return self.info.kind

    @property
    def peer(self) -> str:
        return self.info.peer

    @property
    def attached(self) -> bool:
        """Feeding the stream now."""
        return self.role == "active"

    def quiet_for(self, now: float) -> float:
        """Seconds since its last media frame (since its attach if it sent none)."""
        return now - self.last_media

    # -- PublishSession -------------------------------------------------------------------

    def announce_track(self, track: TrackInfo) -> None:
        if self.role is not None:
            self.live.announce_track(self, track)

    def push_frame(self, frame: Frame) -> None:
        if self.role is None:
            return
        self.last_media = self.live.clock()
        self.frames += 1
        if frame.is_video:
            self.video_frames += 1
        self.live.push(self, frame)

    def set_metadata(self, metadata: Mapping[str, object]) -> None:
        if self.role is None:
            return
        self.metadata = dict(metadata)
        if self.role == "active":
            self.live.metadata = self.metadata

    def count_bytes(self, received: int) -> None:
        if self.role is None:
            return
        self.bytes += received
        if self.role == "active":
            self.live.stats.bytes += received

    def detach(self, reason: str) -> None:
        """The ingest lost this publisher (see ``PublishSession.detach``)."""
        self.live.detach(self, Departure("disconnected", reason))

    # -- the registry ---------------------------------------------------------------------

    def kick(self, departure: Departure) -> None:
        """Close this publisher's connection (the stream has let it go already), telling
        it why where its protocol can."""
        self._disconnect(Dropped(departure.description, refused=departure.refuses))
