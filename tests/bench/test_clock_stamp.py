"""The benchmark's wall-clock stamp (``bench/clock_stamp.py``) reads back what was drawn:
bit for bit, after scaling 720p to 360p and a low-bitrate x264 encode and decode, and across
the Python and browser (``player-web/e2e/clock-stamp.js``) implementations."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.clock_stamp import (
    BITS,
    MODULUS,
    band_height,
    bits_value,
    latency_ms,
    paint_luma,
    read_luma,
    stamp_bits,
)
from bench.stamp_publisher import Pictures

ROOT = Path(__file__).resolve().parents[2]
BROWSER_STAMP = ROOT / "player-web" / "e2e" / "clock-stamp.js"
NOW_MS = 1_790_000_000_123  # a full Date.now() reading: more than 32 bits


@given(st.integers(min_value=0, max_value=1 << 42))
def test_bits_round_trip(ms: int) -> None:
    assert bits_value(stamp_bits(ms)) == ms % MODULUS


@pytest.mark.parametrize("flipped", range(BITS))
def test_any_one_bit_misread_is_refused(flipped: int) -> None:
    bits = stamp_bits(NOW_MS)
    bits[flipped] ^= 1
    assert bits_value(bits) is None


def test_latency_across_the_32_bit_wrap() -> None:
    assert latency_ms(MODULUS + 5, MODULUS - 120) == 125
    assert latency_ms(NOW_MS + 250, NOW_MS % MODULUS) == 250


def test_a_half_grey_block_is_refused() -> None:
    plane = bytearray([128]) * (320 * 180)
    paint_luma(plane, 320, 180, 320, NOW_MS)
    assert read_luma(bytes(plane), 320, 180, 320) == NOW_MS % MODULUS
    for y in range(2, 13):  # the middle of the first block: grey, neither bit
        plane[y * 320:y * 320 + 16] = bytes([128]) * 16
    assert read_luma(bytes(plane), 320, 180, 320) is None


def _x264_round_trip(stamps: list[int], width: int, height: int) -> list[av.VideoFrame]:
    """1280x720 pictures from the publisher, scaled to ``width`` x ``height``, through
    libx264 at a low bitrate and back through its decoder."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.bit_rate = Fraction(1, 30), 400_000
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "g": "30"}
    decoder = av.CodecContext.create("h264", "r")
    template = av.VideoFrame(1280, 720, "yuv420p")
    pictures = Pictures(1280, 720, template.planes[0].line_size)
    decoded: list[av.VideoFrame] = []
    for index, ms in enumerate([*stamps, None]):
        frame = None
        if ms is not None:
            source = av.VideoFrame(1280, 720, "yuv420p")
            source.planes[0].update(pictures.luma(index, ms))
            for plane in source.planes[1:]:
                plane.update(bytes([128]) * plane.buffer_size)
            frame = source.reformat(width=width, height=height)
            frame.pts = index
        for packet in encoder.encode(frame):
            decoded.extend(decoder.decode(packet))
    decoded.extend(decoder.decode(None))
    return decoded


def test_survives_360p_and_x264() -> None:
    stamps = [NOW_MS + 33 * i + (i * 7919) % 1000 for i in range(45)]
    decoded = _x264_round_trip(stamps, 640, 360)
    assert len(decoded) == len(stamps)
    read = [read_luma(bytes(f.planes[0]), f.width, f.height, f.planes[0].line_size)
            for f in decoded]
    assert read == [ms % MODULUS for ms in stamps]


_NODE_SCRIPT = """
const fs = require("fs");
const vm = require("vm");
vm.runInThisContext(fs.readFileSync(process.argv[1], "utf8"));
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const read = input.frames.map((b64) =>
  clockStamp.read(Buffer.from(b64, "base64"), input.width, input.band));
// A 2D context that only fills rectangles, into an RGBA buffer.
const { width, height, ms } = input.paint;
const rgba = Buffer.alloc(width * height * 4, 128);
const context = { fillStyle: "#000", fillRect(x, y, w, h) {
  const v = this.fillStyle === "#fff" ? 255 : 0;
  for (let j = y; j < y + h; j += 1) for (let i = x; i < x + w; i += 1) {
    rgba.fill(v, (j * width + i) * 4, (j * width + i) * 4 + 3);
  }
} };
clockStamp.paint(context, width, height, ms);
console.log(JSON.stringify({ read, painted: rgba.toString("base64") }));
"""


def test_browser_stamp_agrees_with_python() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    stamps = [NOW_MS + 40 * i for i in range(10)]
    decoded = _x264_round_trip(stamps, 640, 360)
    band = band_height(360)
    frames = []
    for frame in decoded:
        rgba = bytes(frame.reformat(format="rgba").planes[0])
        stride = len(rgba) // frame.height
        frames.append(base64.b64encode(
            b"".join(rgba[y * stride:y * stride + 640 * 4] for y in range(band))).decode())
    request = {"width": 640, "band": band, "frames": frames,
               "paint": {"width": 480, "height": 270, "ms": NOW_MS}}
    done = subprocess.run([node, "-e", _NODE_SCRIPT, str(BROWSER_STAMP)],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=60, check=True)
    answer = json.loads(done.stdout)
    assert answer["read"] == [ms % MODULUS for ms in stamps]
    rgba = base64.b64decode(answer["painted"])
    luma = bytes(rgba[0::4])  # grey: red is the luma
    assert read_luma(luma, 480, 270, 480) == NOW_MS % MODULUS
