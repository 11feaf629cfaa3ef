"""SRT packets (``shared/specs/srt.md`` §2-§4, §6): data packets and every control type,
parsed from and built into datagrams. Pure functions of bytes; no state.

Control CIF numeric fields are big-endian on the wire; byte strings inside the handshake
(stream id, congestion name) carry libsrt's per-word byte reversal, which
``ingest/srt/streamid.py`` undoes. Handshake extensions are kept as raw (type, bytes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ingest.srt.errors import SrtError

__all__ = [
    "ACK",
    "ACKACK",
    "CONGESTION",
    "DROPREQ",
    "HANDSHAKE",
    "KEEPALIVE",
    "NAK",
    "PEERERROR",
    "SEQ_MASK",
    "SHUTDOWN",
    "USER",
    "Ack",
    "ControlPacket",
    "DataPacket",
    "Handshake",
    "decode_loss_list",
    "encode_loss_list",
    "parse",
    "seq_add",
    "seq_diff",
]

HANDSHAKE, KEEPALIVE, ACK, NAK, CONGESTION, SHUTDOWN, ACKACK, DROPREQ, PEERERROR = range(9)
USER = 0x7FFF
"""Extended control type; subtype 3 = KMREQ, 4 = KMRSP (key refresh)."""
KNOWN_TYPES = frozenset({*range(9), USER})

SEQ_MASK = 0x7FFFFFFF
MSG_MASK = 0x03FFFFFF
_HEADER = struct.Struct(">IIII")
_HS = struct.Struct(">IHHIIIIIi16s")
_EXT = struct.Struct(">HH")

# Handshake types
INDUCTION, WAVEAHAND, CONCLUSION, AGREEMENT, DONE = 1, 0, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
HS_MAGIC = 0x4A17
EXT_HSREQ, EXT_HSRSP, EXT_KMREQ, EXT_KMRSP, EXT_SID, EXT_CONGESTION = 1, 2, 3, 4, 5, 6
FLAG_HSREQ, FLAG_KMREQ, FLAG_CONFIG = 0x1, 0x2, 0x4


def seq_add(seq: int, n: int) -> int:
    return (seq + n) & SEQ_MASK


def seq_diff(a: int, b: int) -> int:
    """a - b in 31-bit modular arithmetic, as a signed number."""
    d = (a - b) & SEQ_MASK
    return d - (1 << 31) if d >= 1 << 30 else d


@dataclass(frozen=True, slots=True)
class DataPacket:
    seq: int
    msgno: int
    timestamp: int
    dest: int
    payload: bytes | memoryview
    """Parsed: a view into the datagram (the payload is not copied on the way in)."""
    position: int = 3
    """PP bits: 3 = a whole message in one packet (live mode)."""
    in_order: bool = False
    kk: int = 0
    """0 clear, 1 even key, 2 odd key."""
    retransmitted: bool = False

    def encode(self) -> bytes:
        word1 = (self.position << 30 | int(self.in_order) << 29 | self.kk << 27
                 | int(self.retransmitted) << 26 | (self.msgno & MSG_MASK))
        return _HEADER.pack(self.seq & SEQ_MASK, word1, self.timestamp & 0xFFFFFFFF,
                            self.dest) + self.payload


@dataclass(frozen=True, slots=True)
class ControlPacket:
    type: int
    timestamp: int
    dest: int
    info: int = 0
    """Type-specific information (ACK number, message number, error code)."""
    subtype: int = 0
    cif: bytes = b""

    def encode(self) -> bytes:
        return _HEADER.pack(0x80000000 | self.type << 16 | self.subtype, self.info & 0xFFFFFFFF,
                            self.timestamp & 0xFFFFFFFF, self.dest) + self.cif


@dataclass(frozen=True, slots=True)
class Handshake:
    version: int
    encryption: int
    extension: int
    isn: int
    mss: int
    flow_window: int
    hs_type: int
    socket_id: int
    cookie: int
    peer_ip: bytes = bytes(16)
    extensions: tuple[tuple[int, bytes], ...] = field(default=())

    @classmethod
    def parse(cls, cif: bytes) -> Handshake:
        if len(cif) < _HS.size:
            raise SrtError(f"handshake of {len(cif)} bytes is truncated", "handshake")
        (version, encryption, extension, isn, mss, flow, hs_type, socket_id, cookie,
         peer_ip) = _HS.unpack_from(cif)
        extensions: list[tuple[int, bytes]] = []
        pos = _HS.size
        while pos < len(cif):
            if len(cif) - pos < 4:
                raise SrtError("handshake extension header truncated", "handshake")
            kind, words = _EXT.unpack_from(cif, pos)
            pos += 4
            end = pos + 4 * words
            if end > len(cif):
                raise SrtError(f"handshake extension {kind} overruns the packet", "handshake")
            extensions.append((kind, bytes(cif[pos:end])))
            pos = end
            if len(extensions) > 16:
                raise SrtError("too many handshake extensions", "handshake")
        return cls(version, encryption, extension, isn & SEQ_MASK, mss, flow, hs_type,
                   socket_id, cookie & 0xFFFFFFFF, bytes(peer_ip), tuple(extensions))

    def encode(self) -> bytes:
        parts = [_HS.pack(self.version, self.encryption, self.extension, self.isn, self.mss,
                          self.flow_window, self.hs_type, self.socket_id,
                          _signed32(self.cookie), self.peer_ip)]
        for kind, body in self.extensions:
            if len(body) % 4:
                raise ValueError("extension contents must be whole 32-bit words")
            parts.append(_EXT.pack(kind, len(body) // 4) + body)
        return b"".join(parts)

    def extension_body(self, kind: int) -> bytes | None:
        for ext_kind, body in self.extensions:
            if ext_kind == kind:
                return body
        return None


@dataclass(frozen=True, slots=True)
class Ack:
    """An ACK CIF: light (last_seq only), small (+rtt, var, buffer) or full (+rates)."""

    last_seq: int
    rtt: int | None = None
    rtt_var: int | None = None
    buffer: int | None = None
    packet_rate: int | None = None
    capacity: int | None = None
    byte_rate: int | None = None

    @classmethod
    def parse(cls, cif: bytes) -> Ack:
        n = len(cif) // 4
        if n < 1:
            raise SrtError("ACK without its sequence number", "ack")
        words = struct.unpack_from(f">{min(n, 7)}I", cif)
        values: list[int | None] = [*words, *([None] * (7 - len(words)))]
        return cls(words[0] & SEQ_MASK, *values[1:])

    def encode(self) -> bytes:
        fields = [self.last_seq, self.rtt, self.rtt_var, self.buffer, self.packet_rate,
                  self.capacity, self.byte_rate]
        words = [f for f in fields if f is not None]
        return struct.pack(f">{len(words)}I", *words)


def encode_loss_list(ranges: list[tuple[int, int]]) -> bytes:
    """NAK CIF: a single lost packet is one word, a range is first|0x80000000, last."""
    words: list[int] = []
    for first, last in ranges:
        if first == last:
            words.append(first & SEQ_MASK)
        else:
            words += [0x80000000 | (first & SEQ_MASK), last & SEQ_MASK]
    return struct.pack(f">{len(words)}I", *words)


def decode_loss_list(cif: bytes) -> list[tuple[int, int]]:
    n = len(cif) // 4
    words = struct.unpack_from(f">{n}I", cif)
    ranges = []
    i = 0
    while i < n:
        word = words[i]
        if word & 0x80000000:
            if i + 1 >= n:
                raise SrtError("loss list range without its end", "nak")
            ranges.append((word & SEQ_MASK, words[i + 1] & SEQ_MASK))
            i += 2
        else:
            ranges.append((word, word))
            i += 1
        if len(ranges) > 4096:
            raise SrtError("loss list too long", "nak")
    return ranges


def parse(data: bytes) -> DataPacket | ControlPacket:
    """One datagram. Raises ``SrtError`` for anything that is not an SRT packet."""
    if len(data) < 16:
        raise SrtError(f"datagram of {len(data)} bytes is shorter than an SRT header", "packet")
    word0, word1, timestamp, dest = _HEADER.unpack_from(data)
    if not word0 & 0x80000000:
        return DataPacket(word0, word1 & MSG_MASK, timestamp, dest, memoryview(data)[16:],
                          word1 >> 30, bool(word1 >> 29 & 1), word1 >> 27 & 3,
                          bool(word1 >> 26 & 1))
    kind = word0 >> 16 & 0x7FFF
    if kind not in KNOWN_TYPES:
        raise SrtError(f"unknown control type {kind:#x}", "packet")
    return ControlPacket(kind, timestamp, dest, word1, word0 & 0xFFFF, data[16:])


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value
