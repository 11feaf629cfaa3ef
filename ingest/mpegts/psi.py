"""Program-specific information (fmp4-mpegts.md §8.2): sections reassembled across packets
by their section_length, CRC-checked, and the two tables a single-program stream needs,
the PAT (program → PMT PID) and the PMT (elementary PID → stream_type).

Parsers return None for a section that is malformed even though its CRC matched; the
demuxer counts that like a CRC error. Nothing here raises.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final, NamedTuple

TABLE_PAT: Final = 0x00
TABLE_PMT: Final = 0x02
MAX_SECTION_LENGTH: Final = 1021
"""section_length limit of PAT/PMT (and every table with section_syntax_indicator = 1 that
ISO/IEC 13818-1 defines): 1024 bytes for the whole section."""

_REVERSE_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def crc32_mpeg(data: bytes | bytearray | memoryview) -> int:
    """CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, not reflected, no final XOR).

    That is zlib's reflected CRC-32 mirrored: fed bit-reversed bytes, zlib computes the
    same register bit-reversed and XORed with 0xFFFFFFFF, so two C calls do it instead of a
    loop over bytes. Over a whole section including its CRC_32 field the result is 0."""
    reflected = zlib.crc32(bytes(data).translate(_REVERSE_BITS)) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


class Sections(NamedTuple):
    """What one packet's payload completed on a PSI PID."""

    sections: list[bytes]
    """Whole sections, CRC not checked."""
    errors: int
    """Sections given up: a pointer_field past the packet, an impossible length."""


class SectionAssembler:
    """One PSI PID's payloads → whole sections (``pointer_field``, sections spanning packets,
    several sections in one packet, 0xFF stuffing)."""

    __slots__ = ("_active", "_buf")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._active = False

    def reset(self) -> None:
        """Forget the section being assembled (a continuity error broke it)."""
        self._buf.clear()
        self._active = False

    def push(self, payload: memoryview, pusi: bool) -> Sections:
        """Add one packet's payload."""
        sections: list[bytes] = []
        if pusi:
            if not len(payload):
                self.reset()
                return Sections(sections, 1)
            start = 1 + payload[0]
            if start > len(payload):
                self.reset()
                return Sections(sections, 1)
            errors = 0
            if self._active:
                # The bytes before the new section finish the previous one; anything short
                # of a whole section is the remains of a loss.
                self._buf += payload[1:start]
                errors += self._drain(sections)
            self._buf.clear()
            self._buf += payload[start:]
            self._active = True
        elif self._active:
            self._buf += payload
            errors = 0
        else:
            return Sections(sections, 0)
        return Sections(sections, errors + self._drain(sections))

    def _drain(self, sections: list[bytes]) -> int:
        """Move the whole sections at the front of the buffer to ``sections``; 1 if an
        impossible length made it give up."""
        buf = self._buf
        while self._active and len(buf) >= 3:
            if buf[0] == 0xFF:  # stuffing up to the end of the packet
                self.reset()
                return 0
            length = 3 + ((buf[1] & 0x0F) << 8 | buf[2])
            if length - 3 > MAX_SECTION_LENGTH:
                self.reset()
                return 1
            if len(buf) < length:
                return 0
            sections.append(bytes(buf[:length]))
            del buf[:length]
        return 0


@dataclass(frozen=True, slots=True)
class SectionHeader:
    table_id: int
    table_id_extension: int
    """PAT: transport_stream_id; PMT: program_number."""
    version: int
    current: bool
    section_number: int
    last_section_number: int


def section_header(section: bytes) -> SectionHeader | None:
    """The long-form header of a CRC-checked section, or None if it is not one."""
    if len(section) < 12 or not section[1] & 0x80:
        return None
    return SectionHeader(section[0], section[3] << 8 | section[4], section[5] >> 1 & 0x1F,
                         bool(section[5] & 1), section[6], section[7])


@dataclass(frozen=True, slots=True)
class Program:
    number: int
    pmt_pid: int


def parse_pat(section: bytes) -> list[Program] | None:
    """The programs of a PAT section (network PID entries, program 0, left out)."""
    if len(section) < 12 or section[0] != TABLE_PAT or (len(section) - 12) % 4:
        return None
    programs = []
    for pos in range(8, len(section) - 4, 4):
        number = section[pos] << 8 | section[pos + 1]
        if number:
            programs.append(Program(number, (section[pos + 2] & 0x1F) << 8 | section[pos + 3]))
    return programs


@dataclass(frozen=True, slots=True)
class ElementaryStream:
    stream_type: int
    pid: int
    descriptors: bytes = b""


@dataclass(frozen=True, slots=True)
class ProgramMap:
    program_number: int
    pcr_pid: int
    streams: tuple[ElementaryStream, ...]


def parse_pmt(section: bytes) -> ProgramMap | None:
    """The elementary streams of a PMT section, in their order."""
    end = len(section) - 4  # CRC_32
    if len(section) < 16 or section[0] != TABLE_PMT:
        return None
    pcr_pid = (section[8] & 0x1F) << 8 | section[9]
    pos = 12 + ((section[10] & 0x0F) << 8 | section[11])
    streams = []
    while pos < end:
        if end - pos < 5:
            return None
        es_info_length = (section[pos + 3] & 0x0F) << 8 | section[pos + 4]
        if pos + 5 + es_info_length > end:
            return None
        streams.append(ElementaryStream(section[pos], (section[pos + 1] & 0x1F) << 8
                                        | section[pos + 2],
                                        section[pos + 5:pos + 5 + es_info_length]))
        pos += 5 + es_info_length
    if pos != end:
        return None
    return ProgramMap(section[3] << 8 | section[4], pcr_pid, tuple(streams))
