"""Byte streams captured from real publishers (``capture_testing.py``): ffmpeg 5.1's rtmpproto with
H.264/AAC, and libavformat 62 (PyAV) speaking Enhanced RTMP with HEVC, AV1, VP9 and Opus."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from pathlib import Path

import pytest

from ingest.media import Frame, TrackInfo
from ingest.rtmp.events import (
    ConnectionClosed,
    FrameReceived,
    PublishEnded,
    PublishRequested,
    RtmpEvent,
    TrackAnnounced,
)
from tests.ingest.rtmp.rtmp_testing import byte_by_byte, drive, load, random_splits

FIXTURES = {
    # name: (video codec, codec string prefix, audio codec, sample rate, FFmpeg decoder)
    "ffmpeg_h264_aac.bin": ("h264", "avc1.64000c", "aac", 22050, "h264"),
    "pyav_hevc_opus.bin": ("hevc", "hvc1.1.6.L30", "opus", 48000, "hevc"),
    "pyav_av1_aac.bin": ("av1", "av01.0.00M.08", "aac", 48000, None),
    "pyav_vp9_opus.bin": ("vp9", "vp09.00.10.08", "opus", 48000, "vp9"),
}


def tracks(events: list[RtmpEvent]) -> dict[str, TrackInfo]:
    return {e.track.kind: e.track for e in events if isinstance(e, TrackAnnounced)}


def frames(events: list[RtmpEvent], kind: str) -> list[Frame]:
    return [e.frame for e in events
            if isinstance(e, FrameReceived) and e.frame.track.kind == kind]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_whole_bytewise_and_split(name: str) -> None:
    data = load(name)
    whole, _ = drive([data])
    assert drive(byte_by_byte(data))[0] == whole
    for seed in range(5):
        assert drive(random_splits(data, seed, max_piece=3000))[0] == whole
    # Trailing garbage after the publisher closed its session changes nothing before it.
    assert drive([data + b"\x00" * 3])[0][:-1] == whole[:-1]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_content(name: str) -> None:
    video_codec, codec_string, audio_codec, rate, _ = FIXTURES[name]
    events, _ = drive([load(name)])
    publish = next(e for e in events if isinstance(e, PublishRequested))
    assert (publish.app, publish.stream_name, publish.query) == ("live", "streamkey123",
                                                                 "token=abc")
    assert events[-2:] == [PublishEnded("FCUnpublish"), ConnectionClosed("eof")]
    found = tracks(events)
    video, audio = found["video"], found["audio"]
    assert (video.codec, video.width, video.height, video.track_id) == (video_codec, 160, 120,
                                                                        0)
    assert video.codec_string.startswith(codec_string)
    assert (audio.codec, audio.sample_rate, audio.channels, audio.track_id) == (
        audio_codec, rate, 1, 1)
    video_frames = frames(events, "video")
    assert len(video_frames) == 15 and video_frames[0].keyframe
    for kind in ("video", "audio"):
        got = frames(events, kind)
        assert got, kind
        assert all(a.dts <= b.dts for a, b in itertools.pairwise(got))
        assert all(f.pts >= f.dts for f in got)
    if video_codec in ("h264", "hevc"):
        for f in video_frames:  # 4-byte length prefixes tile each payload exactly
            pos = 0
            while pos < len(f.payload):
                pos += 4 + int.from_bytes(f.payload[pos:pos + 4], "big")
            assert pos == len(f.payload)


@pytest.mark.parametrize("name", [n for n, v in sorted(FIXTURES.items()) if v[4]])
def test_fixture_video_decodes(name: str) -> None:
    av = pytest.importorskip("av")
    decoder_name = FIXTURES[name][4]
    events, _ = drive([load(name)])
    video = tracks(events)["video"]
    decoder = av.CodecContext.create(decoder_name, "r")
    if video.codec != "vp9":
        decoder.extradata = video.config
    pictures = []
    for f in frames(events, "video"):
        pictures += decoder.decode(av.Packet(f.payload))
    pictures += decoder.decode(None)
    assert [(p.width, p.height) for p in pictures] == [(160, 120)] * 15


@pytest.mark.interop
async def test_live_ffmpeg_publish(tmp_path: Path) -> None:
    """ffmpeg pushing to a throwaway asyncio server around the sans-IO core."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    from tests.ingest.rtmp.capture_testing import capture

    path = tmp_path / "live.bin"
    await asyncio.wait_for(capture("ffmpeg", path), 30)
    events, _ = drive([path.read_bytes()])
    assert tracks(events)["video"].codec == "h264"
    assert len(frames(events, "video")) == 15
