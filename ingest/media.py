"""The media model every part of mediad speaks: a track description and its frames.

Timestamps are integers in the track's timescale. Each ingest protocol maps its own clock
(RTMP milliseconds, MPEG-TS 90 kHz) onto this model once, at the edge, with wrap-around
already handled, so nothing downstream ever sees a timestamp go backwards inside a track.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TrackKind = Literal["video", "audio"]
Codec = Literal["h264", "hevc", "av1", "vp9", "aac", "opus"]

VIDEO_CODECS: frozenset[str] = frozenset({"h264", "hevc", "av1", "vp9"})
AUDIO_CODECS: frozenset[str] = frozenset({"aac", "opus"})


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """One elementary stream of a publish, as announced by its sequence header."""

    track_id: int
    """Stable per publish: 0 for video, 1 for audio unless a protocol carries several."""
    kind: TrackKind
    codec: Codec
    timescale: int
    """Units per second of every ``Frame`` timestamp on this track."""
    config: bytes = b""
    """Codec configuration record: avcC, hvcC, av1C or AudioSpecificConfig bytes."""
    codec_string: str = ""
    """RFC 6381 string for HLS ``CODECS`` and MSE, e.g. ``avc1.64001f``."""
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0

    def __post_init__(self) -> None:
        if self.timescale <= 0:
            raise ValueError("timescale must be positive")
        allowed = VIDEO_CODECS if self.kind == "video" else AUDIO_CODECS
        if self.codec not in allowed:
            raise ValueError(f"codec {self.codec!r} is not a {self.kind} codec")


@dataclass(frozen=True, slots=True)
class Frame:
    """One access unit: a whole video picture or one audio frame."""

    track: TrackInfo
    dts: int
    pts: int
    keyframe: bool
    payload: bytes
    """Video: NAL units each prefixed by a 4-byte big-endian length. Audio: raw AAC AU."""
    arrival: float = field(default=0.0, compare=False)
    """Monotonic clock reading when the frame's last byte arrived at ingest (set by servers)."""

    @property
    def is_video(self) -> bool:
        return self.track.kind == "video"
