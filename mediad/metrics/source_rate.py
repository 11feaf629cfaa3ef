"""The measured frame rate and bit rate of a stream's active publisher, at scrape time.

Over the interval since the previous reading of the same publisher connection (since its
attach at the first one, so the first scrape already has a rate). Readings closer together
than ``min_interval`` (two Prometheus servers scraping) reuse the last rate instead of
dividing by a few milliseconds.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from mediad.publisher import Publisher

__all__ = ["SourceRate", "SourceRates"]


@dataclass(frozen=True, slots=True)
class SourceRate:
    fps: float
    bits_per_second: float


@dataclass(frozen=True, slots=True)
class _Reading:
    at: float
    bytes: int
    video_frames: int
    rate: SourceRate


class SourceRates:
    def __init__(self, min_interval: float = 1.0) -> None:
        self.min_interval = min_interval
        self._readings: weakref.WeakKeyDictionary[Publisher, _Reading] = (
            weakref.WeakKeyDictionary())

    def read(self, publisher: Publisher, now: float) -> SourceRate:
        before = self._readings.get(publisher)
        if before is None:
            since, sent, frames = publisher.attached_at, 0, 0
        elif now - before.at < self.min_interval:
            return before.rate
        else:
            since, sent, frames = before.at, before.bytes, before.video_frames
        elapsed = now - since
        rate = SourceRate(0.0, 0.0)
        if elapsed > 0:
            rate = SourceRate((publisher.video_frames - frames) / elapsed,
                              (publisher.bytes - sent) * 8 / elapsed)
        if elapsed >= self.min_interval:  # a publisher just attached: from its attach again
            self._readings[publisher] = _Reading(now, publisher.bytes,
                                                 publisher.video_frames, rate)
        return rate
