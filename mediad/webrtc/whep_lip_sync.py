"""Audio held back until the video of the same media time has gone out.

aiortc's RTCP sender reports map the moment a packet is sent to its RTP timestamp, and a
browser plays audio and video by those reports. Audio that leaves ahead of its pictures
(passed through while the pictures come from a ladder rung a few hundred milliseconds
later) would be played ahead of them. So each audio unit waits until a picture at least
as late has been handed out, bounded by ``MAX_HOLD_SEC`` of media (a video that stalls
must not silence the audio). A stream without video holds nothing.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from mediad.webrtc.whep_units import WhepUnit

MAX_HOLD_SEC: Final = 1.0


class LipSync:
    def __init__(self, max_hold_sec: float = MAX_HOLD_SEC) -> None:
        self.max_hold_sec = max_hold_sec
        self.hold = False
        """Set while the stream has video; without, audio goes at once."""
        self._held: deque[WhepUnit] = deque()
        self._video_at: float | None = None

    @property
    def held(self) -> int:
        return len(self._held)

    def reset(self) -> None:
        """A new publish: what was held goes with the old one's timeline."""
        self._held.clear()
        self._video_at = None

    def audio(self, unit: WhepUnit) -> list[WhepUnit]:
        """``unit`` is ready: the audio units to hand out now, in order."""
        if not self.hold:
            return [*self._release_all(), unit]
        self._held.append(unit)
        return self._due()

    def video(self, seconds: float) -> list[WhepUnit]:
        """A picture at ``seconds`` was handed out: the audio units due now."""
        if self._video_at is None or seconds > self._video_at:
            self._video_at = seconds
        return self._due()

    def _due(self) -> list[WhepUnit]:
        held, due = self._held, []
        newest = held[-1].seconds if held else 0.0
        while held and ((self._video_at is not None and held[0].seconds <= self._video_at)
                        or newest - held[0].seconds > self.max_hold_sec):
            due.append(held.popleft())
        return due

    def _release_all(self) -> list[WhepUnit]:
        due = list(self._held)
        self._held.clear()
        return due
