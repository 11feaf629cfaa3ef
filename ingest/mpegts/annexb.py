"""Annex B byte streams (H.264/HEVC in MPEG-TS): NAL units between ``00 00 01`` start codes.

A four-byte start code ``00 00 00 01`` and trailing_zero_8bits leave zero bytes at the end
of the previous NAL unit; a NAL unit never ends in a zero byte (its RBSP ends with the stop
bit, cabac_zero_words are escaped as ``00 00 03``), so trailing zeros are stripped. Bytes
before the first start code belong to no NAL unit and are ignored.
"""

from __future__ import annotations

_START = b"\x00\x00\x01"


def split_annex_b(data: bytes) -> list[bytes]:
    nals: list[bytes] = []
    find = data.find
    start = find(_START)
    while start >= 0:
        begin = start + 3
        start = find(_START, begin)
        nal = data[begin:] if start < 0 else data[begin:start]
        if nal.endswith(b"\x00"):
            nal = nal.rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


def length_prefixed(nals: list[bytes]) -> bytes:
    """NAL units each behind a 4-byte big-endian length (the fMP4 sample format)."""
    parts: list[bytes] = []
    for nal in nals:
        parts.append(len(nal).to_bytes(4, "big"))
        parts.append(nal)
    return b"".join(parts)


class ParameterSets:
    """One kind of parameter set (SPS, PPS, VPS) by id, as the config record lists them.

    Holds at most ``limit`` ids (what the record's count field can express); a publisher
    cycling through more starts the set afresh."""

    __slots__ = ("_by_id", "limit")

    def __init__(self, limit: int) -> None:
        self._by_id: dict[int, bytes] = {}
        self.limit = limit

    def put(self, set_id: int, nal: bytes) -> bool:
        """Store ``nal`` under its id; whether that changed anything."""
        by_id = self._by_id
        if by_id.get(set_id) == nal:
            return False
        if set_id not in by_id and len(by_id) >= self.limit:
            by_id.clear()
        by_id[set_id] = nal
        return True

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def values(self) -> list[bytes]:
        return [self._by_id[k] for k in sorted(self._by_id)]
