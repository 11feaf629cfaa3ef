"""188-byte transport stream packets (ISO/IEC 13818-1 §2.4.3.2, fmp4-mpegts.md §8.1): cutting
a byte stream of any chunking into packets, regaining sync after loss or garbage, and reading
the 4-byte header and the adaptation field's flags.

Sync rule: while in sync, a 0x47 where the next packet should start is trusted (no look-ahead,
so a packet is handed on as soon as its last byte arrives). After a miss, a candidate 0x47
must be confirmed by another 0x47 exactly 188 bytes later before it is trusted again; the
candidate is kept, waiting for more bytes, when the confirmation has not arrived yet. Either
way the outcome does not depend on how the input was chunked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from ingest.mpegts.errors import MpegTsError

PACKET_SIZE: Final = 188
SYNC_BYTE: Final = 0x47
PID_PAT: Final = 0x0000
PID_NULL: Final = 0x1FFF

# adaptation_field_control bits.
AFC_PAYLOAD: Final = 0b01
AFC_ADAPTATION: Final = 0b10

_SYNC = b"\x47"
_SETTLED: Final = 8


class PacketHeader:
    """The fields of one packet that a demuxer acts on."""

    __slots__ = ("cc", "discontinuity", "payload_offset", "pid", "pusi", "scrambled",
                 "transport_error")

    def __init__(self, pid: int, pusi: bool, cc: int, payload_offset: int, *,
                 transport_error: bool = False, scrambled: bool = False,
                 discontinuity: bool = False) -> None:
        self.pid = pid
        self.pusi = pusi
        """payload_unit_start_indicator: a PES or a PSI section (after pointer_field) starts."""
        self.cc = cc
        self.payload_offset = payload_offset
        """Where the payload starts; ``PACKET_SIZE`` when the packet carries none."""
        self.transport_error = transport_error
        self.scrambled = scrambled
        self.discontinuity = discontinuity
        """The adaptation field's discontinuity_indicator: a CC jump here is no loss."""

    @property
    def has_payload(self) -> bool:
        return self.payload_offset < PACKET_SIZE

    def __repr__(self) -> str:
        return (f"PacketHeader(pid={self.pid:#x}, pusi={self.pusi}, cc={self.cc}, "
                f"payload_offset={self.payload_offset})")


def parse_header(packet: bytes | memoryview) -> PacketHeader | None:
    """The header of one 188-byte packet that starts with the sync byte, or None when the
    packet is unusable: adaptation_field_control 00 (reserved) or an adaptation field longer
    than the packet."""
    b1, b3 = packet[1], packet[3]
    afc = b3 >> 4 & 3
    if not afc:
        return None
    offset = 4
    discontinuity = False
    if afc & AFC_ADAPTATION:
        length = packet[4]
        # Only adaptation: it fills the packet (183); with a payload: at most 182.
        if length > (182 if afc & AFC_PAYLOAD else 183):
            return None
        if length:
            discontinuity = bool(packet[5] & 0x80)
        offset = 5 + length
    if not afc & AFC_PAYLOAD:
        offset = PACKET_SIZE
    return PacketHeader((b1 & 0x1F) << 8 | packet[2], bool(b1 & 0x40), b3 & 0x0F, offset,
                        transport_error=bool(b1 & 0x80), scrambled=bool(b3 & 0xC0),
                        discontinuity=discontinuity)


class PacketSplitter:
    """Bytes in any chunking → 188-byte packets (memoryviews valid until the next ``feed``).

    ``max_unsynced`` bounds how many bytes may pass without a confirmed sync: no loss of
    whole datagrams explains that much, so the input is not a transport stream (or was
    decrypted with the wrong key) and ``MpegTsError`` ("no_sync") is raised.
    """

    __slots__ = ("_good", "_hunted", "_synced", "_tail", "max_unsynced", "resyncs",
                 "skipped_bytes")

    def __init__(self, *, max_unsynced: int = 64 * 1024) -> None:
        self.max_unsynced = max_unsynced
        self._tail = b""
        self._synced = True
        self._hunted = 0
        """Bytes skipped since sync was last held for ``_SETTLED`` packets in a row (random
        bytes confirm a false sync every 64 KiB or so, but never hold it)."""
        self._good = 0
        self.resyncs = 0
        """Times sync was lost (each followed by a hunt for the next confirmed 0x47)."""
        self.skipped_bytes = 0

    @property
    def buffered(self) -> int:
        return len(self._tail)

    def feed(self, data: bytes | memoryview) -> Iterator[memoryview]:
        """The packets in ``tail + data``, as views: into ``data`` itself unless a packet
        was cut by the previous call (then into a joined copy of the two)."""
        buf: bytes | memoryview = self._tail + data if self._tail else data
        view = memoryview(buf)
        searchable: bytes | None = None  # buf as bytes, for the hunt after a loss
        end = len(buf)
        pos = 0
        try:
            while True:
                if self._synced:
                    if end - pos < PACKET_SIZE:
                        break
                    if buf[pos] == SYNC_BYTE:
                        packet = view[pos:pos + PACKET_SIZE]
                        pos += PACKET_SIZE
                        if self._hunted:
                            self._good += 1
                            if self._good >= _SETTLED:
                                self._hunted = 0
                        yield packet
                        continue
                    self._synced = False
                    self.resyncs += 1
                if searchable is None:
                    searchable = bytes(buf)  # no copy of bytes; a view's, once per feed
                pos, waiting = self._hunt(searchable, pos)
                if waiting:
                    break
        finally:
            self._tail = bytes(buf[pos:])

    def _hunt(self, buf: bytes, pos: int) -> tuple[int, bool]:
        """Skip to the next confirmed sync byte: (new position, whether more bytes are needed
        first)."""
        end = len(buf)
        candidate = buf.find(_SYNC, pos)
        while candidate >= 0 and candidate + PACKET_SIZE < end:
            if buf[candidate + PACKET_SIZE] == SYNC_BYTE:
                self._skip(candidate - pos)
                self._synced = True
                self._good = 0
                return candidate, False
            candidate = buf.find(_SYNC, candidate + 1)
        stop = end if candidate < 0 else candidate
        self._skip(stop - pos)
        return stop, True

    def _skip(self, count: int) -> None:
        self.skipped_bytes += count
        self._hunted += count
        if self._hunted > self.max_unsynced:
            raise MpegTsError(f"no MPEG-TS sync byte pattern in {self._hunted} bytes",
                              "no_sync")
