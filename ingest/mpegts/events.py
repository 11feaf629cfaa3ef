"""Events of the MPEG-TS demuxer (``TsDemuxer.next_event``)."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.media import Frame, TrackInfo


@dataclass(frozen=True, slots=True)
class TrackAnnounced:
    """A track's configuration became known or changed: video once SPS+PPS (+VPS) were seen
    (config = avcC/hvcC), audio with its first ADTS header (config = AudioSpecificConfig).
    Frames that follow refer to this ``TrackInfo``."""

    track: TrackInfo


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """One access unit: a whole picture (length-prefixed NAL units) or one raw AAC frame,
    with 90 kHz timestamps extended past the 33-bit wrap."""

    frame: Frame


TsEvent = TrackAnnounced | FrameReceived
