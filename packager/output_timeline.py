"""The stream's continuous output timeline, shared by every rendition of a stream.

Publisher reconnects and backup takeovers do not restart the output clock: each publish is
placed where the previous one ended (the segment after the seam carries
EXT-X-DISCONTINUITY). The placement also anchors program date times: the publish's first
frame maps onto the ingest wall clock at its arrival, so a player's ``playingDate`` gives
true end-to-end latency. Every rendition asks the same ``OutputTimeline``, so the same
source time maps to the same output time and date in every rung, whichever rung sees a
frame first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TIMELINE_START", "OutputTimeline", "Placement", "WallClock"]

TIMELINE_START = 10.0
"""Seconds at which the first publish starts on the output timeline: audio that decodes a
little before the first video keyframe still has a positive decode time."""

WallClock = Callable[[float], float]
"""Maps a monotonic ingest arrival time to Unix wall-clock seconds."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one publish sits on the output timeline."""

    offset: float
    """Seconds added to the publish's source times to give output times."""
    media_start: float
    """Output time of the publish's first frame."""
    wall_start: float
    """Wall clock (Unix seconds) at that frame's ingest arrival."""

    def program_date_time(self, media_seconds: float) -> float:
        """The wall-clock date of an output time of this publish."""
        return self.wall_start + (media_seconds - self.media_start)


class OutputTimeline:
    """Places each publish of a stream on its continuous output timeline."""

    def __init__(self, wall_clock: WallClock) -> None:
        self.wall_clock = wall_clock
        self._resume = 0.0
        self._placed: Placement | None = None

    def place(self, first_seconds: float, arrival: float) -> Placement:
        """The current publish's placement; the first frame asked about (``first_seconds``
        in source time, arriving at ``arrival``) fixes it for every rendition."""
        if self._placed is None:
            start = self._resume if self._resume > 0 else TIMELINE_START
            self._placed = Placement(start - first_seconds, start, self.wall_clock(arrival))
        return self._placed

    def next_publish(self, resume: float) -> None:
        """A new publish follows; it starts at ``resume`` (where the renditions ended), or
        later if an earlier call said so."""
        self._resume = max(self._resume, resume)
        self._placed = None
