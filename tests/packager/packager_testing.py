"""Real encoded sources for packager tests, with RTMP's millisecond clock: libx264 (with
B-frames) and AAC through PyAV, interleaved as a publisher sends them; VP9 from libvpx, as
the RTMP ingest delivers it. And a configured ladder rung."""

from __future__ import annotations

import array
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest

from ingest.media import Frame, TrackInfo

av: Any = pytest.importorskip("av")

FPS = 30
SECONDS = 4


VP9_RECORD = bytes.fromhex("000a820202020000")
"""What ``ingest/rtmp/flv.py`` announces for libavformat's VP9 publish
(``tests/fixtures/rtmp/pyav_vp9_opus.bin``): profile 0, level 1, 8-bit 4:2:0, colour
unspecified, no initialization data."""


@dataclass(frozen=True)
class Rung:
    """A configured ladder rung (``packager.transcode.LadderRung``)."""

    name: str
    height: int
    bitrate_kbps: int
    fps_max: int = 30
    preset: str = "ultrafast"


@dataclass(frozen=True)
class Source:
    video: TrackInfo
    audio: TrackInfo
    frames: list[Frame]  # in decode order, interleaved as a publisher sends them


def _encode_pictures(name: str, width: int, height: int, seconds: int,
                     options: dict[str, str], b_frames: int = 0) -> tuple[Any, list[Any]]:
    """(the open encoder, its packets) for ``seconds`` of changing pictures at 30 fps with
    1 s GOPs, timed in milliseconds."""
    video = av.CodecContext.create(name, "w")
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.time_base = Fraction(1, 1000)
    video.framerate = Fraction(FPS)
    video.gop_size = FPS
    video.max_b_frames = b_frames
    video.flags |= av.codec.context.Flags.global_header
    video.options = options
    video.open()
    packets: list[Any] = []
    for i in range(seconds * FPS):
        frame = av.VideoFrame(width, height, "yuv420p")
        for n, plane in enumerate(frame.planes):
            plane.update(bytes([(i * 7 + n * 50) & 0xFF]) * plane.buffer_size)
        frame.pts = round(i * 1000 / FPS)
        packets += video.encode(frame)
    packets += video.encode(None)
    return video, packets


def encode_vp9(width: int = 320, height: int = 240, seconds: int = 3) -> list[Frame]:
    """libvpx VP9 frames, one raw frame per ``Frame``, on a track with ``VP9_RECORD``."""
    _, packets = _encode_pictures("libvpx-vp9", width, height, seconds, {
        "deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"})
    track = TrackInfo(0, "video", "vp9", 1000, VP9_RECORD, "vp09.00.10.08", width, height)
    return [Frame(track, int(p.dts), int(p.pts), p.is_keyframe, bytes(p),
                  arrival=int(p.dts) / 1000) for p in packets]


def encode_source(width: int = 320, height: int = 240, seconds: int = SECONDS,
                  b_frames: int = 2) -> Source:
    video, packets = _encode_pictures(
        "libx264", width, height, seconds,
        {"preset": "ultrafast", "x264-params": "annexb=0:scenecut=0"}, b_frames)
    vinfo = TrackInfo(0, "video", "h264", 1000, bytes(video.extradata),
                      "avc1.42c00d", width, height)

    audio = av.CodecContext.create("aac", "w")
    audio.sample_rate, audio.layout, audio.format = 48000, "mono", "fltp"
    audio.time_base = Fraction(1, 48000)
    audio.flags |= av.codec.context.Flags.global_header
    audio.open()
    apackets: list[Any] = []
    size = audio.frame_size
    for n in range(math.ceil(seconds * 48000 / size)):
        tone = array.array("f", (0.2 * math.sin(2 * math.pi * 440 * (n * size + k) / 48000)
                                 for k in range(size)))
        frame = av.AudioFrame(format="fltp", layout="mono", samples=size)
        frame.planes[0].update(tone.tobytes())
        frame.sample_rate, frame.pts = 48000, n * size
        apackets += audio.encode(frame)
    apackets += audio.encode(None)
    ainfo = TrackInfo(1, "audio", "aac", 1000, bytes(audio.extradata), "mp4a.40.2",
                      sample_rate=48000, channels=1)

    frames = [Frame(vinfo, int(p.dts), int(p.pts), p.is_keyframe, bytes(p),
                    arrival=int(p.dts) / 1000) for p in packets]
    for p in apackets:
        ms = round(int(p.pts) * 1000 / 48000)
        frames.append(Frame(ainfo, ms, ms, True, bytes(p), arrival=ms / 1000))
    frames.sort(key=lambda f: (f.dts, f.track.kind != "video"))
    return Source(vinfo, ainfo, frames)
