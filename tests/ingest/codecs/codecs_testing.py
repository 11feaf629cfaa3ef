"""Helpers for the codec-layer tests: real encoder output from PyAV (bare packets, or muxed
the way a container stores them), what FFmpeg decodes of it, and length-prefixed framing
written independently of the code under test."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ingest.codecs.bits import Buffer
from ingest.codecs.normaliser import NalNormaliser
from ingest.media import TrackInfo
from tests.peers_testing import require_tool


def prefixed(nals: list[bytes], length_size: int = 4) -> bytes:
    return b"".join(len(n).to_bytes(length_size, "big") + n for n in nals)


def unprefixed(sample: bytes) -> list[bytes]:
    """The NAL units of a 4-byte length-prefixed sample (checking that they tile it)."""
    nals, pos = [], 0
    while pos < len(sample):
        size = int.from_bytes(sample[pos:pos + 4], "big")
        nals.append(sample[pos + 4:pos + 4 + size])
        pos += 4 + size
    assert pos == len(sample)
    return nals


def normalise(normaliser: NalNormaliser, nals: list[Buffer]
              ) -> tuple[list[bytes], bool, TrackInfo | None, int]:
    """(kept NAL units, keyframe, new track, parameter-set errors) of one access unit."""
    unit = normaliser.access_unit(nals)
    assert unprefixed(unit.sample()) == [bytes(n) for n in unit.nals]
    return [bytes(n) for n in unit.nals], unit.keyframe, unit.track, unit.parameter_set_errors


def pictures(width: int, height: int, pix_fmt: str, count: int) -> Iterator[Any]:
    """``count`` flat pictures, each a different shade (so inter frames code something)."""
    av = pytest.importorskip("av")
    for i in range(count):
        picture = av.VideoFrame(width, height, pix_fmt)
        for plane in picture.planes:
            plane.update(bytes([(i * 40 + 16) & 0xFF]) * plane.buffer_size)
        picture.pts = i
        yield picture


def encode(codec: str, width: int, height: int, frames: int, *, pix_fmt: str = "yuv420p",
           options: dict[str, str] | None = None, global_header: bool = True
           ) -> tuple[bytes, list[tuple[bytes, bool]]]:
    """(extradata, [(packet, keyframe)]) of ``frames`` pictures encoded with PyAV."""
    av = pytest.importorskip("av")
    ctx: Any = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, pix_fmt
    ctx.time_base = Fraction(1, 25)
    ctx.framerate = Fraction(25)
    if global_header:
        ctx.flags |= av.codec.context.Flags.global_header
    if options:
        ctx.options = options
    ctx.open()
    packets: list[tuple[bytes, bool]] = []
    for picture in pictures(width, height, pix_fmt, frames):
        packets += [(bytes(p), bool(p.is_keyframe)) for p in ctx.encode(picture)]
    packets += [(bytes(p), bool(p.is_keyframe)) for p in ctx.encode(None)]
    return bytes(ctx.extradata or b""), packets


def mux(codec: str, width: int, height: int, frames: int, *, container: str = "mp4",
        pix_fmt: str = "yuv420p", options: dict[str, str] | None = None) -> bytes:
    """``frames`` pictures encoded with PyAV into a ``container`` file, in memory."""
    av = pytest.importorskip("av")
    buf = io.BytesIO()
    out: Any = av.open(buf, "w", format=container)
    stream = out.add_stream(codec, rate=25)
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    stream.time_base = Fraction(1, 25)
    if options:
        stream.codec_context.options = options
    for picture in pictures(width, height, pix_fmt, frames):
        for packet in stream.encode(picture):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return buf.getvalue()


def muxed(codec: str, width: int, height: int, frames: int, *, pix_fmt: str = "yuv420p",
          options: dict[str, str] | None = None) -> tuple[bytes, list[bytes]]:
    """(configuration record, packets) as an MP4 muxer stores them: for AV1 and VP9 the
    av1C/vpcC that a bare encoder context does not give (vpcC: the box's payload, FullBox
    header included, since ffmpeg's demuxer keeps no extradata for it)."""
    av = pytest.importorskip("av")
    data = mux(codec, width, height, frames, pix_fmt=pix_fmt, options=options)
    with av.open(io.BytesIO(data)) as back:
        video = back.streams.video[0]
        record = bytes(video.codec_context.extradata or b"")
        packets = [bytes(p) for p in back.demux(video) if p.size]
    if not record and b"vpcC" in data:
        at = data.index(b"vpcC")
        record = data[at + 4:at - 4 + int.from_bytes(data[at - 4:at], "big")]
    return record, packets


def audio_encoder(codec: str, rate: int, layout: str, sample_format: str) -> Any:
    """An opened PyAV audio encoder (its extradata is the codec's configuration)."""
    av = pytest.importorskip("av")
    encoder: Any = av.CodecContext.create(codec, "w")
    encoder.sample_rate, encoder.layout, encoder.format = rate, layout, sample_format
    encoder.time_base = Fraction(1, rate)
    encoder.open()
    return encoder


def decoded_sizes(codec: str, extradata: bytes | None, packets: list[bytes]
                  ) -> list[tuple[int, int]]:
    """What FFmpeg's decoder makes of the packets: proves record and samples fit together."""
    av = pytest.importorskip("av")
    ctx: Any = av.CodecContext.create(codec, "r")
    if extradata:
        ctx.extradata = extradata
    sizes = []
    for data in packets:
        sizes += [(p.width, p.height) for p in ctx.decode(av.Packet(data))]
    sizes += [(p.width, p.height) for p in ctx.decode(None)]
    return sizes


def probed_video(path: Path) -> dict[str, object]:
    """ffprobe's profile and level of the first video stream of ``path``."""
    out = json.loads(subprocess.run(
        [require_tool("ffprobe"), "-v", "error", "-select_streams", "v", "-show_entries",
         "stream=profile,level", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout)
    streams: list[dict[str, object]] = out["streams"]
    return streams[0]
