"""NAL unit framing (H.264 and HEVC): Annex B byte streams and length-prefixed samples, both
ways.

Splitting returns memoryviews into the caller's buffer, so a picture is not copied until
its sample is built once, by ``length_prefixed`` (ingest) or ``annex_b`` (a reader that wants
a byte stream, such as WebRTC's RTP packetiser).

Annex B: NAL units sit between ``00 00 01`` start codes. A four-byte start code ``00 00 00
01`` and trailing_zero_8bits leave zero bytes at the end of the previous NAL unit; a NAL unit
never ends in a zero byte (its RBSP ends with the stop bit, cabac_zero_words are escaped as
``00 00 03``), so trailing zeros are stripped. Bytes before the first start code belong to no
NAL unit and are ignored.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

from ingest.codecs.bits import BitstreamError, Buffer

START_CODE: Final = b"\x00\x00\x00\x01"
_START = b"\x00\x00\x01"
_U32 = struct.Struct(">I")


def split_annex_b(data: bytes | bytearray) -> list[memoryview]:
    """The NAL units of an Annex B access unit, as views into ``data``."""
    view = memoryview(data)
    nals: list[memoryview] = []
    find = data.find
    start = find(_START)
    while start >= 0:
        begin = start + 3
        start = find(_START, begin)
        end = _trim_zeros(data, begin, len(data) if start < 0 else start)
        if end > begin:
            nals.append(view[begin:end])
    return nals


def _trim_zeros(data: bytes | bytearray, begin: int, end: int) -> int:
    """``end`` moved back past trailing zero bytes: one or two after a four-byte start code,
    a long run only in garbage, which is stripped at C speed instead."""
    for _ in range(8):
        if end <= begin or data[end - 1]:
            return end
        end -= 1
    return begin + len(data[begin:end].rstrip(b"\x00"))


def split_length_prefixed(data: Buffer, length_size: int = 4) -> list[memoryview]:
    """The NAL units of a sample whose units each follow a ``length_size``-byte big-endian
    length (avcC/hvcC ``lengthSizeMinusOne`` + 1), as views into ``data``. Raises
    ``BitstreamError`` unless the units tile ``data`` exactly."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    end = len(view)
    pos = 0
    nals: list[memoryview] = []
    while pos < end:
        if end - pos < length_size:
            raise BitstreamError("NAL unit length truncated")
        if length_size == 4:
            size = _U32.unpack_from(view, pos)[0]
        else:
            size = int.from_bytes(view[pos:pos + length_size], "big")
        pos += length_size
        if size > end - pos:
            raise BitstreamError("NAL unit overruns the sample")
        nals.append(view[pos:pos + size])
        pos += size
    return nals


def length_prefixed(nals: Iterable[Buffer]) -> bytes:
    """NAL units each behind a 4-byte big-endian length (the fMP4 sample format)."""
    pack = _U32.pack
    parts: list[Buffer] = []
    for nal in nals:
        parts.append(pack(len(nal)))
        parts.append(nal)
    return b"".join(parts)


def annex_b(nals: Iterable[Buffer]) -> bytes:
    """NAL units each behind a four-byte start code (an Annex B access unit)."""
    parts: list[Buffer] = []
    for nal in nals:
        parts.append(START_CODE)
        parts.append(nal)
    return b"".join(parts)
