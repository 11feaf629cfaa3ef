"""What one rendition has produced, for the multivariant playlist: peak and average bit
rate over complete segments (BANDWIDTH, AVERAGE-BANDWIDTH) and the frame rate; and the
parts and segments published, for the daemon's metrics."""

from __future__ import annotations

from dataclasses import dataclass

from packager.llhls import Segment

__all__ = ["RenditionStats", "snap_frame_rate"]

_COMMON_RATES = (10.0, 12.0, 12.5, 15.0, 20.0, 23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0,
                 59.94, 60.0, 120.0)


@dataclass
class RenditionStats:
    segments: int = 0
    parts: int = 0
    peak_bps: float = 0.0
    average_bps: float = 0.0
    frame_rate: float = 0.0
    _bits: float = 0.0
    _seconds: float = 0.0

    def add_segment(self, segment: Segment, frame_rate: float) -> None:
        """Count a complete segment; ``frame_rate`` is the measured rate (0: not video)."""
        if segment.duration <= 0:
            return
        self.segments += 1
        bits = len(segment.data) * 8
        self.peak_bps = max(self.peak_bps, bits / segment.duration)
        self._bits += bits
        self._seconds += segment.duration
        self.average_bps = self._bits / self._seconds
        if frame_rate:
            self.frame_rate = snap_frame_rate(frame_rate)


def snap_frame_rate(measured: float) -> float:
    """Millisecond timestamps blur 30 fps into 30.12: report the common rate it is."""
    nearest = min(_COMMON_RATES, key=lambda rate: abs(rate - measured))
    return nearest if abs(nearest - measured) <= 0.01 * nearest else round(measured, 3)
