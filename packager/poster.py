"""One still picture of a video rendition: the first keyframe of an fMP4 fragment, scaled
down and encoded as a JPEG (live thumbnails, the posters of recordings and clips).

Only the keyframe is decoded: non-key packets are never handed to the decoder, and the
decoder is flushed right after the keyframe, so that a decoder with a reorder delay
(B-frames) gives its picture at once. Blocking PyAV work: callers run it in a thread.
"""

from __future__ import annotations

import io
import math
from fractions import Fraction
from typing import Any

import av

__all__ = ["JPEG_QUANTISER", "PosterError", "poster_jpeg", "poster_size"]

JPEG_QUANTISER = 4
"""The MJPEG quantiser (2 best .. 31 worst, ffmpeg's ``-q:v``): no visible loss at poster
sizes, about two thirds of the bytes of the best setting."""


class PosterError(ValueError):
    """No picture could be made: no video track, no keyframe, or undecodable media."""


def poster_jpeg(init: bytes, fragment: bytes | memoryview, max_width: int
                ) -> tuple[bytes, int, int]:
    """(JPEG bytes, width, height) of the first keyframe of ``fragment`` (``moof`` +
    ``mdat`` pairs, as the packager cuts them) read with its ``init`` section (``ftyp`` +
    ``moov``). Other tracks of the fragment (audio muxed in) are ignored."""
    if max_width < 2:
        raise ValueError(f"max_width must be 2 or more, not {max_width}")
    try:
        picture, sample_aspect = _first_keyframe(b"".join((init, fragment)))
        width, height = poster_size(picture.width, picture.height, sample_aspect, max_width)
        return _jpeg(picture, width, height), width, height
    except av.error.FFmpegError as exc:
        raise PosterError(f"undecodable video: {exc}") from None


def poster_size(width: int, height: int, sample_aspect: Fraction | None, max_width: int
                ) -> tuple[int, int]:
    """The picture size a ``width`` x ``height`` picture with non-square pixels
    (``sample_aspect``) is shown at, never larger than it on either axis (one side shrinks
    instead of the other growing) nor wider than ``max_width``; even sides (4:2:0)."""
    if width < 1 or height < 1:
        raise PosterError(f"picture size {width}x{height}")
    display_width, display_height = float(width), float(height)
    if sample_aspect is not None and sample_aspect > 0 and sample_aspect != 1:
        if sample_aspect > 1:
            display_height = height / float(sample_aspect)
        else:
            display_width = width * float(sample_aspect)
    out_width = _even_at_most(min(display_width, max_width))
    out_height = max(2, 2 * round(display_height * out_width / display_width / 2))
    return out_width, out_height


def _even_at_most(value: float) -> int:
    return max(2, math.floor(value / 2) * 2)


def _first_keyframe(data: bytes) -> tuple[Any, Fraction | None]:
    """The first keyframe's picture and the stream's sample aspect ratio."""
    with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
        if not container.streams.video:
            raise PosterError("no video track")
        stream = container.streams.video[0]
        decoder = stream.codec_context
        decoder.thread_count = 1  # one picture: threads would only add start-up work
        for packet in container.demux(stream):
            if packet.size == 0 or not packet.is_keyframe:
                continue
            pictures = [*decoder.decode(packet), *decoder.decode(None)]
            if pictures:
                return pictures[0], decoder.sample_aspect_ratio
            raise PosterError("the keyframe decodes to no picture")
    raise PosterError("no video keyframe")


def _jpeg(picture: Any, width: int, height: int) -> bytes:
    # yuvj420p: full-range YUV, what a JPEG holds; swscale expands the video range.
    scaled = picture.reformat(width=width, height=height, format="yuvj420p",
                              interpolation="AREA")
    scaled.pts = 0
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.qmin = encoder.qmax = JPEG_QUANTISER
    packets = [*encoder.encode(scaled), *encoder.encode(None)]
    jpeg = b"".join(bytes(packet) for packet in packets)
    if not jpeg:
        raise PosterError("the JPEG encoder gave nothing")
    return jpeg
