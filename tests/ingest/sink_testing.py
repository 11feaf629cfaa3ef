"""A ``PublishSink`` that accepts every publisher and refuses tracks of the codecs it is told
(what the daemon does with a track it cannot package), recording what reached it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from ingest.sink import PublishSession, TrackRefused


@dataclass
class RecordingSession:
    refuse: frozenset[str]
    stream_id: str = "stream-1"
    tracks: list[TrackInfo] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)

    def announce_track(self, track: TrackInfo) -> None:
        if track.codec in self.refuse:
            raise TrackRefused(f"{track.codec} cannot be packaged; publish H.264 or HEVC")
        self.tracks.append(track)

    def push_frame(self, frame: Frame) -> None:
        self.frames.append(frame)

    def set_metadata(self, metadata: Mapping[str, object]) -> None:
        pass

    def count_bytes(self, received: int) -> None:
        pass

    def detach(self, reason: str) -> None:
        self.detached.append(reason)


class RefusingSink:
    def __init__(self, *refuse: str) -> None:
        self.refuse = frozenset(refuse)
        self.sessions: list[RecordingSession] = []

    async def start_publish(self, *, protocol: str, key: str, peer: str,
                            disconnect: Callable[[str], None]) -> PublishSession:
        session = RecordingSession(self.refuse)
        self.sessions.append(session)
        return session
