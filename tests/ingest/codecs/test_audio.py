"""AAC and Opus: the AudioSpecificConfig both ways, codec strings, OpusHead from libopus."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.codecs import aac, opus
from tests.ingest.codecs.codecs_testing import audio_encoder


@pytest.mark.parametrize(("asc", "expected"), [
    (bytes.fromhex("1210"), (2, 44100, 2)),
    (bytes.fromhex("1188"), (2, 48000, 1)),
    (bytes.fromhex("138856e500"), (2, 22050, 1)),  # ffmpeg's SBR sync extension after it
    (bytes.fromhex("11b8"), (2, 48000, 8)),        # 7.1
    (bytes.fromhex("2b0980"), (5, 48000, 1)),      # SBR: 24 kHz core, 48 kHz output
])
def test_read_audio_specific_config(asc: bytes, expected: tuple[int, int, int]) -> None:
    assert aac.read_audio_specific_config(asc) == expected
    track = aac.track(1, 90000, asc)
    assert (track.codec_string, track.sample_rate, track.channels, track.config) == (
        aac.codec_string(expected[0]), expected[1], expected[2], asc)


def test_what_pyav_writes_reads_back() -> None:
    encoder = audio_encoder("aac", 32000, "mono", "fltp")
    assert aac.read_audio_specific_config(encoder.extradata) == (aac.AOT_LC, 32000, 1)
    assert aac.audio_specific_config(aac.AOT_LC, aac.SAMPLE_RATES.index(32000), 1) == \
        bytes(encoder.extradata)[:2]


@given(st.integers(1, 30), st.integers(0, len(aac.SAMPLE_RATES) - 1), st.integers(1, 7))
def test_audio_specific_config_round_trip(object_type: int, rate_index: int,
                                          channel_config: int) -> None:
    asc = aac.audio_specific_config(object_type, rate_index, channel_config)
    if object_type in (5, 29):
        return  # these signal an extension rate after the channels
    assert aac.read_audio_specific_config(asc) == (
        object_type, aac.SAMPLE_RATES[rate_index], aac.channel_count(channel_config))


def test_opus_head_from_libopus() -> None:
    encoder = audio_encoder("libopus", 48000, "stereo", "s16")
    track = opus.track(1, 1000, encoder.extradata)
    assert (track.channels, track.sample_rate, track.codec_string) == (2, 48000, "opus")
    assert opus.head_channels(b"") == 0 and opus.head_channels(b"OpusHead\x01") == 0
