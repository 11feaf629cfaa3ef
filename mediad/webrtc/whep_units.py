"""What a WHEP viewer's tracks send: one access unit on the WebRTC clocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

VIDEO_RATE: Final = 90_000
"""RTP clock of H.264 (RFC 6184)."""
AUDIO_RATE: Final = 48_000
"""RTP clock of Opus (RFC 7587), whatever the sampling rate."""


@dataclass(frozen=True, slots=True)
class WhepUnit:
    kind: Literal["video", "audio"]
    timestamp: int
    """On ``VIDEO_RATE`` or ``AUDIO_RATE``; increasing within a kind, for every viewer."""
    keyframe: bool
    data: bytes
    """Video: an Annex B access unit, SPS and PPS in front of an IDR. Audio: one Opus
    packet."""

    @property
    def seconds(self) -> float:
        return self.timestamp / (VIDEO_RATE if self.kind == "video" else AUDIO_RATE)
