"""Events of the MPEG-TS demuxer."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.media import Frame, TrackInfo


@dataclass(frozen=True, slots=True)
class TrackAnnounced:
    """A track's configuration is known (or changed): avcC, AudioSpecificConfig."""

    track: TrackInfo


@dataclass(frozen=True, slots=True)
class FrameReceived:
    frame: Frame


TsEvent = TrackAnnounced | FrameReceived
