"""Which live segments a clip of the last N seconds takes: whole segments (each starts at a
keyframe), as many of the newest as come closest to N, and from the other renditions the
segments of the same stretch of time."""

from __future__ import annotations

from collections.abc import Sequence

from packager.llhls import Segment

ALIGN_SLACK = 0.05
"""Seconds: renditions cut at the same output times, dated to the millisecond."""


class ClipRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def newest_covering(segments: Sequence[Segment], seconds: float) -> list[Segment]:
    """The newest complete segments whose total duration is closest to ``seconds`` (the
    longer on a tie); empty when there is no complete segment."""
    complete = [s for s in segments if s.complete]
    best: list[Segment] = []
    best_error = float("inf")
    total = 0.0
    for count in range(1, len(complete) + 1):
        total += complete[-count].duration
        error = abs(total - seconds)
        if error <= best_error:
            best, best_error = complete[-count:], error
        if total >= seconds:
            break
    return best


def same_stretch(segments: Sequence[Segment], start: float, end: float) -> list[Segment]:
    """The complete segments of another rendition that start within [start, end)."""
    return [s for s in segments if s.complete
            and start - ALIGN_SLACK <= s.program_date_time < end - ALIGN_SLACK]
