"""The viewers' media clock: every source timestamp mapped onto one timeline that never goes
back, across publisher changes.

A new publisher (a reconnect, a backup taking over) restarts its timestamps anywhere. RTP
timestamps must not jump back (a receiver would hold or drop what follows), so at a
discontinuity the next source frame is placed ``GAP`` after the newest media time handed
out, and every later frame, audio and video alike, keeps that offset: their sync is the
source's. Within a kind, a frame that would still land at or before the previous one
(the other kind started the new publish a little later) is moved just after it (video)
or said to be dropped (audio, whose packets would overlap).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from mediad.webrtc.whep_units import AUDIO_RATE, VIDEO_RATE

GAP: Final = Fraction(1, 30)
"""Between the last media of one publish and the first of the next."""


class WhepClock:
    def __init__(self) -> None:
        self._offset: Fraction | None = None
        """Added to a source time; None until a frame of the current publish has come."""
        self._newest: Fraction | None = None
        self._last_video: int | None = None
        self._last_audio: int | None = None

    def discontinuity(self) -> None:
        """Timestamps restart: the next frame sets the offset."""
        self._offset = None

    def media_time(self, pts: int, timescale: int) -> Fraction:
        """Seconds on the viewers' timeline of a source time."""
        source = Fraction(pts, timescale)
        if self._offset is None:
            start = Fraction(0) if self._newest is None else self._newest + GAP
            self._offset = start - source
        time = source + self._offset
        if self._newest is None or time > self._newest:
            self._newest = time
        return time

    def video(self, time: Fraction) -> int:
        """The RTP timestamp (90 kHz) of a picture at ``time``, after the previous one."""
        ticks = round(time * VIDEO_RATE)
        if self._last_video is not None and ticks <= self._last_video:
            ticks = self._last_video + 1
        self._last_video = ticks
        return ticks

    def audio(self, time: Fraction) -> int | None:
        """The RTP timestamp (48 kHz) of an audio packet at ``time``; None when it would not
        come after the previous packet."""
        ticks = round(time * AUDIO_RATE)
        if self._last_audio is not None and ticks <= self._last_audio:
            return None
        self._last_audio = ticks
        return ticks
