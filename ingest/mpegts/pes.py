"""PES packets (fmp4-mpegts.md §8.3): reassembly from TS payloads and the header with its
33-bit PTS/DTS (``ingest.timeline`` extends them, per track).

A PES ends at the next payload_unit_start on its PID or, when PES_packet_length is set, once
that many bytes arrived (then it is handed on without waiting for the next PES: audio PES
carry a length, so audio leaves with its last byte). Anything a loss explains (no start code,
a header cut short, a PES shorter than its length) makes ``PesAssembler`` drop the PES and say
so through its return value; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

TIMESTAMP_BITS: Final = 33

# stream_id values whose PES has no optional header (13818-1 Table 2-21 and §2.4.3.7):
# program_stream_map, padding, private_stream_2, ECM, EMM, DSMCC, H.222.1 type E, directory.
_NO_HEADER_IDS: Final = frozenset({0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF})


@dataclass(frozen=True, slots=True)
class PesHeader:
    stream_id: int
    packet_length: int
    """PES_packet_length: bytes after this field, 0 = unbounded."""
    header_size: int
    """Bytes from the start code to the payload (9 + PES_header_data_length)."""
    pts: int | None
    dts: int | None
    """Equals ``pts`` when the PES carries no DTS."""

    @property
    def payload_size(self) -> int:
        """Payload bytes promised by PES_packet_length, 0 = unbounded."""
        return self.packet_length + 6 - self.header_size if self.packet_length else 0


def timestamp(data: bytes | bytearray | memoryview, pos: int) -> int:
    """A 33-bit PTS/DTS from its 5-byte field (marker bits not checked: loss-damaged markers
    with sane values are still the best guess, and no muxer gets them wrong)."""
    return ((data[pos] >> 1 & 7) << 30 | data[pos + 1] << 22 | (data[pos + 2] >> 1) << 15
            | data[pos + 3] << 7 | data[pos + 4] >> 1)


def header_size(data: bytes | bytearray | memoryview) -> int:
    """How many bytes the header at the start of ``data`` has; 0 = unknown yet (fewer than 9
    bytes), -1 = not a PES header this demuxer can use."""
    if len(data) < 9:
        return 0 if data[:3] == b"\x00\x00\x01"[:len(data)] else -1
    if data[0] or data[1] or data[2] != 1 or data[3] in _NO_HEADER_IDS or data[6] & 0xC0 != 0x80:
        return -1
    return 9 + data[8]


def parse_header(data: bytes | bytearray | memoryview) -> PesHeader | None:
    """The header at the start of ``data`` (which holds at least ``header_size`` bytes), or
    None when it is malformed: PTS_DTS_flags 01, timestamps longer than the header, a
    PES_packet_length shorter than the header."""
    size = header_size(data)
    if size <= 0 or len(data) < size:
        return None
    packet_length = data[4] << 8 | data[5]
    if packet_length and packet_length + 6 < size:
        return None
    flags = data[7] >> 6
    pts = dts = None
    if flags == 0b10 and size >= 14:
        pts = dts = timestamp(data, 9)
    elif flags == 0b11 and size >= 19:
        pts = timestamp(data, 9)
        dts = timestamp(data, 14)
    elif flags:
        return None
    return PesHeader(data[3], packet_length, size, pts, dts)


class Pes:
    """One PES being assembled."""

    __slots__ = ("data", "expected", "header")

    def __init__(self) -> None:
        self.data = bytearray()
        """Raw bytes from the start code until the header is known, then only the payload."""
        self.header: PesHeader | None = None
        self.expected = 0
        """Payload bytes promised by PES_packet_length (once the header is known), 0 =
        unbounded."""


class PesProgress(NamedTuple):
    """What one packet's payload did on an elementary PID."""

    finished: tuple[Pes, ...]
    """The PES it completed (0-2)."""
    dropped: int
    """PES given up (0-2: one cut short by this packet's start, one found broken in it)."""
    oversized: int
    """Of those, the one that grew past ``max_size`` (0/1)."""


_NOTHING: Final = PesProgress((), 0, 0)


class PesAssembler:
    """One elementary PID's payloads → whole PES packets.

    ``max_size`` bounds the bytes held; a PES that grows past it is dropped (and reported
    as ``oversized``) and the PID waits for the next PES start.
    """

    __slots__ = ("_pes", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._pes: Pes | None = None

    @property
    def active(self) -> bool:
        return self._pes is not None

    def discard(self) -> int:
        """Drop the PES being assembled (a loss broke it); 1 if there was one."""
        dropped = self._pes is not None
        self._pes = None
        return int(dropped)

    def push(self, payload: memoryview, pusi: bool, merge_unstamped: bool = False
             ) -> PesProgress:
        """``merge_unstamped``: a new PES without PTS continues an unbounded PES in
        progress instead of ending it (an access unit split over PES packets)."""
        pes = self._pes
        if not pusi:
            if pes is None:
                return _NOTHING  # the rest of a PES whose start was lost
            data = pes.data
            data += payload
            # The common case, kept short: a payload packet in the middle of a PES.
            if (pes.header is not None and len(data) <= self.max_size
                    and (not pes.expected or len(data) < pes.expected)):
                return _NOTHING
            return self._progress(pes, (), 0)
        finished: tuple[Pes, ...] = ()
        dropped = 0
        if pes is not None:
            if merge_unstamped and pes.header is not None and not pes.header.packet_length:
                head = parse_header(payload)
                if head is not None and head.pts is None:
                    pes.data += payload[head.header_size:]
                    return self._progress(pes, (), 0)
            if self._ends(pes):
                finished = (pes,)
            else:
                dropped = 1
        pes = self._pes = Pes()
        pes.data += payload
        return self._progress(pes, finished, dropped)

    def _progress(self, pes: Pes, finished: tuple[Pes, ...], dropped: int) -> PesProgress:
        """Parse the header once it is whole, finish a PES whose length is reached, enforce
        ``max_size``."""
        data = pes.data
        if pes.header is None:
            size = header_size(data)
            if size < 0:
                self._pes = None
                return PesProgress(finished, dropped + 1, 0)
            if size and len(data) >= size:
                header = parse_header(data)
                if header is None:
                    self._pes = None
                    return PesProgress(finished, dropped + 1, 0)
                pes.header = header
                pes.expected = header.payload_size
                del data[:size]
        if pes.header is not None and pes.expected and len(data) >= pes.expected:
            del data[pes.expected:]  # stuffing after a PES is not allowed in TS; be lenient
            self._pes = None
            return PesProgress((*finished, pes), dropped, 0)
        if len(data) > self.max_size:
            self._pes = None
            return PesProgress(finished, dropped + 1, 1)
        return PesProgress(finished, dropped, 0) if finished or dropped else _NOTHING

    def flush(self) -> tuple[Pes | None, int]:
        """End of stream: the unbounded PES in progress, or how many were dropped (0/1)."""
        pes, self._pes = self._pes, None
        if pes is None:
            return None, 0
        if self._ends(pes):
            return pes, 0
        return None, 1

    @staticmethod
    def _ends(pes: Pes) -> bool:
        """Whether a PES cut off by the next one's start (or the end of the stream) is
        whole: it is if unbounded, else it lost bytes."""
        return pes.header is not None and not pes.header.packet_length
