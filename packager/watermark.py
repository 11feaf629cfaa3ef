"""The creator's handle drawn onto transcoded pictures by an FFmpeg ``overlay`` filter graph.

PyAV's FFmpeg has no ``drawtext`` (no freetype), so the text is rendered here from a small
built-in 5x7 pixel font into a ``yuva420p`` picture (white letters on a translucent dark
box), scaled to the rung's height, and overlaid in the bottom-right corner of every picture.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

__all__ = ["Watermarker", "render_text"]

_GLYPHS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "@": "01110 10001 10111 10101 10111 10000 01110",
    " ": "00000 00000 00000 00000 00000 00000 00000",
    "?": "01110 10001 00001 00010 00100 00000 00100",
}
_TEXT_ALPHA = 230
_BOX_ALPHA = 110
_MARGIN = 2  # font pixels around the text, inside the box


def render_text(text: str, scale: int) -> tuple[int, int, bytearray]:
    """(width, height, mask): mask bytes are 2 for text, 1 for the box, row by row; both
    sides even (4:2:0 chroma)."""
    glyphs = [_GLYPHS.get(c.upper(), _GLYPHS["?"]).split() for c in text] or [_GLYPHS[" "].split()]
    cols = len(glyphs) * 6 - 1 + 2 * _MARGIN
    rows = 7 + 2 * _MARGIN
    width, height = cols * scale, rows * scale
    width += width % 2
    height += height % 2
    mask = bytearray([1]) * (width * height)
    for index, glyph in enumerate(glyphs):
        for gy, bits in enumerate(glyph):
            for gx, bit in enumerate(bits):
                if bit != "1":
                    continue
                x0 = (_MARGIN + index * 6 + gx) * scale
                y0 = (_MARGIN + gy) * scale
                for y in range(y0, y0 + scale):
                    mask[y * width + x0:y * width + x0 + scale] = b"\x02" * scale
    return width, height, mask


def _mark_picture(text: str, scale: int) -> Any:
    width, height, mask = render_text(text, scale)
    picture = av.VideoFrame(width, height, "yuva420p")
    luma = bytes(235 if m == 2 else 16 for m in mask)
    alpha = bytes(_TEXT_ALPHA if m == 2 else _BOX_ALPHA for m in mask)
    planes = picture.planes
    _fill(planes[0], luma, width, height)
    _fill(planes[1], bytes([128]) * (width // 2 * height // 2), width // 2, height // 2)
    _fill(planes[2], bytes([128]) * (width // 2 * height // 2), width // 2, height // 2)
    _fill(planes[3], alpha, width, height)
    picture.pts = 0
    picture.time_base = Fraction(1, 1000)
    return picture


def _fill(plane: Any, data: bytes, width: int, height: int) -> None:
    stride = plane.line_size
    if stride == width:
        plane.update(data)
        return
    padded = bytearray(stride * height)
    for y in range(height):
        padded[y * stride:y * stride + width] = data[y * width:(y + 1) * width]
    plane.update(bytes(padded))


class Watermarker:
    """One rung's overlay graph: pictures in, the same pictures with the text out."""

    def __init__(self, text: str, width: int, height: int, time_base: Fraction) -> None:
        scale = max(1, height // 180)
        mark = _mark_picture(text, scale)
        graph = av.filter.Graph()
        main = graph.add_buffer(width=width, height=height,
                                format=av.video.format.VideoFormat("yuv420p"),
                                time_base=time_base)
        overlay_input = graph.add_buffer(width=mark.width, height=mark.height,
                                         format=av.video.format.VideoFormat("yuva420p"),
                                         time_base=mark.time_base)
        margin = max(8, height // 40)
        overlay = graph.add("overlay", f"x=W-w-{margin}:y=H-h-{margin}:format=yuv420:"
                                       "eof_action=repeat")
        sink = graph.add("buffersink")
        main.link_to(overlay, 0, 0)
        overlay_input.link_to(overlay, 0, 1)
        overlay.link_to(sink)
        graph.configure()
        overlay_input.push(mark)
        overlay_input.push(None)  # one picture for the whole stream: overlay repeats it
        self._graph = graph  # the filters die with it: keep it as long as they are used
        self._main = main
        self._sink = sink

    def apply(self, picture: Any) -> Any:
        self._main.push(picture)
        return self._sink.pull()
