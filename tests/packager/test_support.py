"""What the packager refuses at announcement: exactly what the fMP4 writer cannot describe,
with the reason; audio that the ladder re-encodes to AAC only has to be decodable."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.media import Codec, TrackInfo
from packager.cmaf import CmafTrack, UnsupportedTrack, init_segment
from packager.segmenter import fmp4_timescale
from packager.support import refusal

VPCC = bytes.fromhex("000a820202020000")
OPUS_HEAD = b"OpusHead\x01\x02" + struct.pack("<HIhB", 312, 48000, 0, 0)


VIDEO: list[Codec] = ["h264", "hevc", "av1", "vp9"]
AUDIO: list[Codec] = ["aac", "opus"]


def video(codec: Codec, config: bytes = b"\x01cfg", width: int = 1280,
          height: int = 720) -> TrackInfo:
    return TrackInfo(0, "video", codec, 1000, config, "", width, height)


def audio(codec: Codec, config: bytes = b"", rate: int = 48000, channels: int = 2
          ) -> TrackInfo:
    return TrackInfo(1, "audio", codec, 1000, config, "", sample_rate=rate, channels=channels)


@pytest.mark.parametrize("track", [
    video("h264"), video("hevc"), video("av1"), video("vp9", VPCC),
    audio("aac", b"\x11\x90"), audio("aac", rate=44100), audio("opus", OPUS_HEAD),
    audio("opus"),  # no OpusHead: a stereo default is described
], ids=lambda t: f"{t.codec}-{len(t.config)}")
def test_what_the_packager_can_serve(track: TrackInfo) -> None:
    assert refusal(track) is None


@pytest.mark.parametrize(("track", "reason"), [
    (video("h264", b""), "h264 track has no configuration record"),
    (video("vp9", VPCC[:7]), "VPCodecConfigurationRecord of 7 bytes is truncated"),
    (video("vp9", bytes.fromhex("000a920202020000")), "bit depth 9"),
    (video("vp9", bytes.fromhex("040a820202020000")), "profile 4"),
    (video("vp9", VPCC, width=0, height=0), "video size 0x0 is unknown"),
    (video("hevc", width=70000), "video size 70000x720"),
    (audio("aac", rate=12345), "aac track has no AudioSpecificConfig and 12345 Hz"),
    (audio("aac", b"\x11\x90", channels=0), "channel count 0 is unknown"),
    (audio("opus", b"OpusHead\x01\x02"), "OpusHead shorter than 19 bytes"),
    (audio("opus", OPUS_HEAD[:18] + b"\x01", channels=6),
     "OpusHead channel mapping table is truncated"),
    (audio("opus", channels=6), "more than 2 channels needs its OpusHead mapping table"),
])
def test_what_it_refuses_and_why(track: TrackInfo, reason: str) -> None:
    found = refusal(track)
    assert found is not None and reason in found


def test_audio_the_ladder_re_encodes_needs_no_sample_entry() -> None:
    unknown_layout = audio("opus", channels=6)
    assert refusal(unknown_layout) is not None
    assert refusal(unknown_layout, audio_to_aac=True) is None
    assert refusal(audio("aac", rate=12345), audio_to_aac=True) is not None, "AAC is copied"
    assert refusal(video("vp9", b""), audio_to_aac=True) is not None, "video is copied"


_CONFIGS = st.one_of(
    st.just(b""), st.binary(max_size=24), st.just(VPCC), st.just(OPUS_HEAD),
    st.builds(lambda head, cut: head[:cut], st.just(OPUS_HEAD), st.integers(0, 20)),
    st.builds(lambda depth, rest: VPCC[:2] + bytes([depth]) + rest,
              st.integers(0, 255), st.binary(min_size=5, max_size=8)),
)


@st.composite
def tracks(draw: st.DrawFn) -> TrackInfo:
    kind = draw(st.sampled_from(["video", "audio"]))
    sizes = st.sampled_from([0, 1, 2, 320, 65535, 65536])
    if kind == "video":
        return video(draw(st.sampled_from(VIDEO)), draw(_CONFIGS),
                     draw(sizes), draw(sizes))
    return audio(draw(st.sampled_from(AUDIO)), draw(_CONFIGS),
                 draw(st.sampled_from([0, 7350, 12345, 44100, 48000, 96000, 100000])),
                 draw(st.sampled_from([0, 1, 2, 3, 6, 8, 65536])))


@given(tracks())
def test_refused_exactly_when_the_init_segment_cannot_be_written(track: TrackInfo) -> None:
    reason = refusal(track)
    cmaf = CmafTrack(1, track, fmp4_timescale(track))
    if reason is None:
        assert init_segment([cmaf]).startswith(b"\x00\x00\x00\x18ftyp")
    else:
        with pytest.raises(UnsupportedTrack) as refused:
            init_segment([cmaf])
        assert str(refused.value) == reason
