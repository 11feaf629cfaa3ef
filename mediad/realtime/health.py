"""Stream health every few seconds: bitrate, frame rate, drop rate and viewers.

Computed from the counters ingest and the packager already keep (bytes and frames
received, frames a slow reader dropped, pictures a transcoder rung dropped), as rates over
the interval since the previous sample.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counters:
    """Cumulative counters of one publish, read at one instant."""

    at: float
    bytes: int
    frames: int
    video_frames: int
    reader_drops: int
    rung_drops: dict[str, int]
    rung_encoded: dict[str, int]


@dataclass(frozen=True, slots=True)
class HealthSample:
    bitrate_kbps: float
    fps: float
    drop_rate: float
    """The worst share of frames lost over the interval: by a reader that fell behind,
    or by any transcoder rung (what the unluckiest viewer sees)."""


def sample(before: Counters, after: Counters) -> HealthSample:
    elapsed = max(1e-3, after.at - before.at)
    frames = max(0, after.frames - before.frames)
    reader_dropped = max(0, after.reader_drops - before.reader_drops)
    worst = reader_dropped / (frames + reader_dropped) if frames + reader_dropped else 0.0
    for rung, dropped_now in after.rung_drops.items():
        dropped = max(0, dropped_now - before.rung_drops.get(rung, 0))
        encoded = max(0, after.rung_encoded.get(rung, 0) - before.rung_encoded.get(rung, 0))
        if dropped + encoded:
            worst = max(worst, dropped / (dropped + encoded))
    return HealthSample(
        bitrate_kbps=round(max(0, after.bytes - before.bytes) * 8 / 1000 / elapsed, 1),
        fps=round(max(0, after.video_frames - before.video_frames) / elapsed, 2),
        drop_rate=round(worst, 4),
    )
