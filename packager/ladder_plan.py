"""Which configured ladder rungs are worth encoding from a source: the plan a
``VideoLadder`` is built to (no PyAV here: the pipeline plans before it encodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.media import TrackInfo

__all__ = ["WELL_BELOW_SOURCE", "LadderRung", "RungSpec", "SourceRate", "plan_ladder"]


class LadderRung(Protocol):
    """A configured rung (``mediad.config.LadderRung``)."""

    @property
    def name(self) -> str: ...
    @property
    def height(self) -> int: ...
    @property
    def bitrate_kbps(self) -> int: ...
    @property
    def fps_max(self) -> int: ...
    @property
    def preset(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RungSpec:
    name: str
    width: int
    height: int
    bitrate_kbps: int
    fps_max: int
    preset: str


@dataclass(frozen=True, slots=True)
class SourceRate:
    """What the publisher says of its video's rate (RTMP ``onMetaData``); 0 when unknown."""

    fps: float = 0.0
    kbps: float = 0.0


WELL_BELOW_SOURCE = 0.6
"""A rung as tall as the source is worth encoding only at this fraction of its bit rate or
less (a cheaper alternative for slow connections), or at a lower frame rate."""


def plan_ladder(source: TrackInfo, rungs: Sequence[LadderRung],
                rate: SourceRate = SourceRate()) -> list[RungSpec]:
    """The rungs worth encoding from the source, width kept to the aspect. A rung taller
    than the source is never planned; one as tall only if it is cheaper than the source by
    frame rate or well below it in bit rate (known from ``rate``): otherwise it would copy
    the source at more bandwidth and the most CPU of all rungs."""
    if not source.width or not source.height:
        return []
    plan = []
    for rung in rungs:
        if rung.height > source.height:
            continue
        if rung.height == source.height and not _cheaper_than(rung, rate):
            continue
        width = max(2, round(source.width * rung.height / source.height / 2) * 2)
        plan.append(RungSpec(rung.name, width, rung.height - rung.height % 2,
                             rung.bitrate_kbps, rung.fps_max, rung.preset))
    return plan


def _cheaper_than(rung: LadderRung, rate: SourceRate) -> bool:
    fewer_frames = rate.fps > 0 and rung.fps_max < rate.fps * 0.9
    fewer_bits = rate.kbps > 0 and rung.bitrate_kbps <= WELL_BELOW_SOURCE * rate.kbps
    return fewer_frames or fewer_bits
