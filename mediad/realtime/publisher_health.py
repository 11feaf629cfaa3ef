"""The health of each publisher of a stream (the active one and its hot standby), for the
``health`` message's ``publishers``: what the control room shows so that a creator running
two encoders sees that the second one is there, sending, and ready to take over.

Rates are over the interval since the previous sample of the same publisher connection
(0 at its first).
The peer's address is not included: the health channel reaches every viewer of the stream
(the address is in the daemon's log).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from mediad.publisher import Publisher
from mediad.realtime.messages import Message
from mediad.streams import LiveStream


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    bytes: int
    video_frames: int


class PublisherHealth:
    def __init__(self) -> None:
        self._previous: weakref.WeakKeyDictionary[Publisher, _Reading] = (
            weakref.WeakKeyDictionary())

    def entries(self, live: LiveStream) -> list[Message]:
        """One entry per publisher of ``live``, the active one first (read on the stream's
        own clock, the one its publishers' media times are on)."""
        now = live.clock()
        return [self._entry(publisher, now) for publisher in live.publishers]

    def _entry(self, publisher: Publisher, now: float) -> Message:
        reading = _Reading(now, publisher.bytes, publisher.video_frames)
        before = self._previous.get(publisher)
        self._previous[publisher] = reading
        bitrate = fps = 0.0
        if before is not None and now > before.at:
            elapsed = now - before.at
            bitrate = round((reading.bytes - before.bytes) * 8 / 1000 / elapsed, 1)
            fps = round((reading.video_frames - before.video_frames) / elapsed, 2)
        return {
            "role": publisher.role, "key": publisher.kind, "protocol": publisher.protocol,
            "frames": publisher.frames, "bitrateKbps": bitrate, "fps": fps,
            "sinceMediaSec": round(max(0.0, publisher.quiet_for(now)), 1),
            "ready": publisher.role == "active" or publisher.warm.ready,
        }
