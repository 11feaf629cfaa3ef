"""AAC (ISO/IEC 14496-3): the sampling frequency table, the AudioSpecificConfig both ways
(§1.6.2.1) and the RFC 6381 ``mp4a.40.N`` string."""

from __future__ import annotations

from typing import Final, NamedTuple

from ingest.codecs.bits import BitReader, BitstreamError, Buffer
from ingest.media import TrackInfo

SAMPLE_RATES: Final = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000,
                       12000, 11025, 8000, 7350)
"""sampling_frequency_index → Hz (indexes 13 and 14 are reserved, 15 escapes to 24 bits)."""
AOT_LC: Final = 2
_EXPLICIT_RATE: Final = 15


class AudioSpecificConfig(NamedTuple):
    object_type: int
    """audioObjectType; with explicit SBR/PS signalling (AOT 5/29), that one."""
    sample_rate: int
    """The output rate: with SBR/PS signalled, the extension rate."""
    channels: int


def _rate(r: BitReader) -> int:
    index = r.u(4)
    if index == _EXPLICIT_RATE:
        return r.u(24)
    if index >= len(SAMPLE_RATES):
        raise BitstreamError(f"reserved AAC sampling frequency index {index}")
    return SAMPLE_RATES[index]


def channel_count(channel_config: int) -> int:
    """channelConfiguration → channels (7 is 7.1)."""
    return 8 if channel_config == 7 else channel_config


def read_audio_specific_config(asc: Buffer) -> AudioSpecificConfig:
    """The leading fields of an AudioSpecificConfig. Raises ``BitstreamError``."""
    r = BitReader(asc[:16])
    aot = r.u(5)
    if aot == 31:
        aot = 32 + r.u(6)
    rate = _rate(r)
    channel_config = r.u(4)
    if aot in (5, 29):
        rate = _rate(r)
    if channel_config > 7 or rate <= 0:
        raise BitstreamError("bad AudioSpecificConfig")
    return AudioSpecificConfig(aot, rate, channel_count(channel_config))


def audio_specific_config(object_type: int, rate_index: int, channel_config: int) -> bytes:
    """The two-byte AudioSpecificConfig for these fields (no GASpecificConfig extensions:
    frameLengthFlag 0, no core coder, no extension), what an ADTS header stands for."""
    return (object_type << 11 | rate_index << 7 | channel_config << 3).to_bytes(2, "big")


def codec_string(object_type: int) -> str:
    return f"mp4a.40.{object_type}"


def track(track_id: int, timescale: int, asc: Buffer) -> TrackInfo:
    """The track an AudioSpecificConfig describes. Raises ``BitstreamError``."""
    config = read_audio_specific_config(asc)
    return TrackInfo(track_id, "audio", "aac", timescale, bytes(asc),
                     codec_string(config.object_type), sample_rate=config.sample_rate,
                     channels=config.channels)
