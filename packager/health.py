"""The transcode counters of one stream for the health channel, summed over every encoder
the stream had (a new source or a new publisher replaces the encoders; their counts stay)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packager.transcode import LadderStats

__all__ = ["PipelineHealth", "summed_health"]


@dataclass(frozen=True, slots=True)
class PipelineHealth:
    """Transcode counters for the health channel, summed over every encoder a stream had."""

    decoded: int = 0
    corrupt_packets: int = 0
    dropped_source_packets: int = 0
    dropped_pictures: dict[str, int] = field(default_factory=dict)
    encoded: dict[str, int] = field(default_factory=dict)
    drop_rate: dict[str, float] = field(default_factory=dict)
    encode_seconds: dict[str, float] = field(default_factory=dict)


def summed_health(stats: Iterable[LadderStats]) -> PipelineHealth:
    """Drops per rung and their rate, corrupt packets: the sum of the encoders' counters."""
    stats = list(stats)
    dropped: dict[str, int] = {}
    encoded: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for one in stats:
        for name, count in one.dropped_pictures.items():
            dropped[name] = dropped.get(name, 0) + count
        for name, count in one.encoded.items():
            encoded[name] = encoded.get(name, 0) + count
        for name, spent in one.encode_seconds.items():
            seconds[name] = seconds.get(name, 0.0) + spent
    return PipelineHealth(
        decoded=sum(s.decoded for s in stats),
        corrupt_packets=sum(s.corrupt_packets for s in stats),
        dropped_source_packets=sum(s.dropped_packets for s in stats),
        dropped_pictures=dropped,
        encoded=encoded,
        drop_rate={name: dropped[name] / max(1, dropped[name] + encoded.get(name, 0))
                   for name in dropped},
        encode_seconds=seconds)
