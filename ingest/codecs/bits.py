"""Bit-level reading shared by the codec parsers: an MSB-first reader with Exp-Golomb codes,
emulation-prevention removal (H.264/HEVC RBSP) and LEB128 (AV1).

Everything here raises ``BitstreamError`` on truncated or nonsensical input. It is a
``ProtocolError`` so that random input never raises anything else; the ingest layers above
decide whether it is fatal (a bad AudioSpecificConfig) or merely costs a fallback (an SPS
that does not parse leaves the size to ``onMetaData``).
"""

from __future__ import annotations

from ingest.errors import ProtocolError

Buffer = bytes | bytearray | memoryview


class BitstreamError(ProtocolError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "bitstream")


class BitReader:
    """MSB-first bit reader over a short byte string (parameter sets are tens of bytes)."""

    __slots__ = ("_bits", "_pos", "_value")

    def __init__(self, data: Buffer) -> None:
        self._value = int.from_bytes(data, "big")
        self._bits = len(data) * 8
        self._pos = 0

    @property
    def remaining(self) -> int:
        return self._bits - self._pos

    def u(self, n: int) -> int:
        if n == 0:
            return 0
        pos = self._pos + n
        if pos > self._bits:
            raise BitstreamError("bitstream truncated")
        self._pos = pos
        return (self._value >> (self._bits - pos)) & ((1 << n) - 1)

    def skip(self, n: int) -> None:
        if self._pos + n > self._bits:
            raise BitstreamError("bitstream truncated")
        self._pos += n

    def ue(self) -> int:
        """Exp-Golomb ue(v)."""
        zeros = 0
        while not self.u(1):
            zeros += 1
            if zeros > 31:
                raise BitstreamError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) >> 1 if k & 1 else -(k >> 1)


def unescape_rbsp(nal_payload: Buffer) -> bytes:
    """Drop emulation-prevention bytes (00 00 03 → 00 00). ``bytes.replace`` scans left to
    right without overlap, which is exactly the rule: the zero count restarts after each 03."""
    return bytes(nal_payload).replace(b"\x00\x00\x03", b"\x00\x00")


def bounded_ue(data: Buffer, limit: int, name: str) -> int:
    """The ue(v) that starts ``data`` (RBSP, still escaped), at most ``limit``: the id that
    opens a parameter set."""
    value = BitReader(unescape_rbsp(data)).ue()
    if value > limit:
        raise BitstreamError(f"{name} out of range")
    return value


def leb128(data: Buffer, pos: int) -> tuple[int, int]:
    """(value, position after) of the LEB128 number at ``pos`` (AV1 §4.10.5: 8 bytes at most)."""
    value = 0
    for i in range(8):
        if pos >= len(data):
            raise BitstreamError("leb128 truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos
    raise BitstreamError("leb128 too long")


def checked_size(width: int, height: int) -> tuple[int, int]:
    """A picture size as a track may announce it; raises for anything implausible."""
    if not (0 < width <= 65535 and 0 < height <= 65535):
        raise BitstreamError(f"implausible picture size {width}x{height}")
    return width, height
