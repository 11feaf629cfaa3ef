"""Opus: the ID header (OpusHead, RFC 7845 §5.1) as far as a track needs it, and the RFC 6381
string. Opus always decodes at 48 kHz, whatever rate the encoder was fed."""

from __future__ import annotations

from typing import Final

from ingest.codecs.bits import Buffer
from ingest.media import TrackInfo

SAMPLE_RATE: Final = 48000
CODEC_STRING: Final = "opus"
HEAD_MAGIC: Final = b"OpusHead"
HEAD_SIZE: Final = 19
"""An OpusHead without its channel mapping table."""


def head_channels(head: Buffer) -> int:
    """The channel count of an OpusHead; 0 (unknown) for anything else, such as the empty
    header E-RTMP allows."""
    if len(head) >= HEAD_SIZE and bytes(head[:8]) == HEAD_MAGIC:
        return head[9]
    return 0


def track(track_id: int, timescale: int, head: Buffer) -> TrackInfo:
    return TrackInfo(track_id, "audio", "opus", timescale, bytes(head), CODEC_STRING,
                     sample_rate=SAMPLE_RATE, channels=head_channels(head))
