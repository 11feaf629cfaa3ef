"""The wall clock drawn into a picture before it is encoded, and read back after decoding.

40 large blocks in the top sixth of the picture (2 rows of 20): the low 32 bits of
``time.time()`` in milliseconds, most significant bit first, then a CRC-8 of those four
bytes. A block is white (a one) or black (a zero); the reader averages the middle quarter
of each block, so scaling to 360p and x264's ringing at the edges do not change a bit. A
block whose average is neither clearly black nor clearly white (a frame caught half
way through an update) or a failed CRC drops the reading instead of returning a wrong time.

``player-web/e2e/clock-stamp.js`` is the same layout for the browser; the unit test checks
that both read what the other wrote.
"""

from __future__ import annotations

COLUMNS = 20
ROWS = 2
BITS = COLUMNS * ROWS
VALUE_BITS = 32
BAND_FRACTION = 6
"""The stamp fills the top 1/BAND_FRACTION of the picture's height."""
BLACK, WHITE = 16, 235
"""Limited-range luma, what x264 and the players expect."""
LOW, HIGH = 80, 176
"""A block's mean luma must be under LOW (zero) or over HIGH (one)."""
MODULUS = 1 << VALUE_BITS


def crc8(data: bytes) -> int:
    """CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def stamp_bits(ms: int) -> list[int]:
    value = ms % MODULUS
    word = (value << 8) | crc8(value.to_bytes(4, "big"))
    return [(word >> (BITS - 1 - i)) & 1 for i in range(BITS)]


def bits_value(bits: list[int]) -> int | None:
    word = 0
    for bit in bits:
        word = (word << 1) | bit
    value = word >> 8
    return value if crc8(value.to_bytes(4, "big")) == word & 0xFF else None


def band_height(height: int) -> int:
    return height // BAND_FRACTION


def block_rect(index: int, width: int, band: int) -> tuple[int, int, int, int]:
    """Block ``index``'s (x0, y0, x1, y1) in a picture ``width`` wide whose stamp is
    ``band`` rows high."""
    row, column = divmod(index, COLUMNS)
    return (column * width // COLUMNS, row * band // ROWS,
            (column + 1) * width // COLUMNS, (row + 1) * band // ROWS)


def paint_luma(plane: bytearray, width: int, height: int, stride: int, ms: int) -> None:
    """Draw the stamp of ``ms`` into an 8-bit luma plane (``stride`` bytes a row)."""
    band = band_height(height)
    for index, bit in enumerate(stamp_bits(ms)):
        x0, y0, x1, y1 = block_rect(index, width, band)
        run = bytes([WHITE if bit else BLACK]) * (x1 - x0)
        for y in range(y0, y1):
            plane[y * stride + x0:y * stride + x1] = run


def read_luma(plane: bytes, width: int, height: int, stride: int) -> int | None:
    """The stamp's value (milliseconds modulo 2**32) in a decoded luma plane, or None when
    a block is unclear or the checksum fails."""
    band = band_height(height)
    bits = []
    for index in range(BITS):
        x0, y0, x1, y1 = block_rect(index, width, band)
        dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
        total = count = 0
        for y in range(y0 + dy, y1 - dy):
            row = plane[y * stride + x0 + dx:y * stride + x1 - dx]
            total += sum(row)
            count += len(row)
        mean = total / count
        if LOW <= mean <= HIGH:
            return None
        bits.append(1 if mean > HIGH else 0)
    return bits_value(bits)


def latency_ms(now_ms: int, stamp: int) -> int:
    """How long ago ``stamp`` was drawn, from a full millisecond clock reading."""
    return (now_ms - stamp) % MODULUS
