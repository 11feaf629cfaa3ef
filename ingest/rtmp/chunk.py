"""RTMP chunk stream (rtmp.md §2): message reassembly from chunks, and chunking for output.

``ChunkReader`` is resumable: ``feed()`` appends to one buffer, ``next_message()`` returns
complete messages one at a time (so a Set Chunk Size can take effect before the next chunk is
parsed) and ``None`` when it needs more bytes; nothing is consumed from an incomplete chunk, so
any split of the input yields the same messages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ingest.rtmp.errors import RtmpError

DEFAULT_CHUNK_SIZE: Final = 128
MAX_CHUNK_SIZE: Final = 0xFFFFFF
"""Larger Set Chunk Size values are equivalent to this: no message can be longer (§3)."""
MAX_CSID: Final = 65599
EXTENDED: Final = 0xFFFFFF

_MASK32: Final = 0xFFFFFFFF
_U32 = struct.Struct(">I")
_U32LE = struct.Struct("<I")
_U24_AT = struct.Struct(">I")  # read 4 bytes starting one early, keep the low 24 bits

Buffer = bytes | bytearray | memoryview


@dataclass(slots=True)
class Message:
    csid: int
    timestamp: int
    """32-bit milliseconds as sent (wraps; the FLV layer extends it)."""
    type_id: int
    stream_id: int
    payload: bytes | bytearray


class _OutStream:
    """What the previous chunk on one csid established (§2.2 header compression)."""

    __slots__ = ("delta", "ext", "length", "stream_id", "timestamp", "type_id")

    def __init__(self) -> None:
        self.timestamp = 0
        self.delta = 0
        self.length = 0
        self.type_id = 0
        self.stream_id = 0
        self.ext: int | None = None
        """The extended timestamp field of the latest fmt 0/1/2 header, if it had one."""


class _InStream(_OutStream):
    """The same per-csid state on input, plus the message being reassembled."""

    __slots__ = ("partial",)

    def __init__(self) -> None:
        super().__init__()
        self.partial: bytearray | None = None


class ChunkReader:
    def __init__(
        self, *, max_message_size: int = 8 << 20, reassembly_budget: int | None = None,
        max_chunk_streams: int = 1024,
    ) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.max_message_size = max_message_size
        self.reassembly_budget = (2 * max_message_size if reassembly_budget is None
                                  else reassembly_budget)
        self.max_chunk_streams = max_chunk_streams
        self._buf = bytearray()
        self._pos = 0
        self._streams: dict[int, _InStream] = {}
        self._pending = 0  # bytes held in partial messages, all csids together

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete chunk."""
        return len(self._buf) - self._pos

    def feed(self, data: Buffer) -> None:
        buf = self._buf
        if self._pos:
            # The unparsed tail is at most one chunk, so this stays cheap.
            del buf[:self._pos]
            self._pos = 0
        buf += data

    def set_chunk_size(self, size: int) -> None:
        if size < 1:
            raise RtmpError(f"invalid chunk size {size}", "chunk")
        self.chunk_size = min(size, MAX_CHUNK_SIZE)

    def abort(self, csid: int) -> None:
        stream = self._streams.get(csid)
        if stream is not None and stream.partial is not None:
            self._pending -= len(stream.partial)
            stream.partial = None

    def next_message(self) -> Message | None:
        buf = self._buf
        end = len(buf)
        while True:
            pos = self._pos
            if pos >= end:
                return None
            b0 = buf[pos]
            fmt = b0 >> 6
            csid = b0 & 0x3F
            if csid == 0:
                if end - pos < 2:
                    return None
                csid = buf[pos + 1] + 64
                p = pos + 2
            elif csid == 1:
                if end - pos < 3:
                    return None
                csid = (buf[pos + 2] << 8) + buf[pos + 1] + 64
                p = pos + 3
            else:
                p = pos + 1
            stream = self._streams.get(csid)

            if fmt == 3:
                if stream is None:
                    raise RtmpError(f"chunk stream {csid} starts with a fmt 3 header", "chunk")
                if stream.ext is not None:
                    # Lenient (§2.3): some peers omit the repeated extended timestamp, so
                    # consume 4 bytes only if they repeat the stored value.
                    if end - p < 4:
                        return None
                    if _U32.unpack_from(buf, p)[0] == stream.ext:
                        p += 4
                partial = stream.partial
                length = stream.length
                remaining = length - len(partial) if partial is not None else length
                n = remaining if remaining < self.chunk_size else self.chunk_size
                if end - p < n:
                    return None
                self._pos = p + n
                if partial is None:
                    stream.timestamp = (stream.timestamp + stream.delta) & _MASK32
                    if n == length:
                        return Message(csid, stream.timestamp, stream.type_id,
                                       stream.stream_id, buf[p:p + n])
                    partial = self._start_partial(stream, n)
                else:
                    self._pending += n
                    if self._pending > self.reassembly_budget:
                        raise RtmpError("partial messages exceed the reassembly budget",
                                        "limit")
                partial += memoryview(buf)[p:p + n]
                if n == remaining:
                    stream.partial = None
                    self._pending -= length
                    return Message(csid, stream.timestamp, stream.type_id, stream.stream_id,
                                   partial)
                continue

            if fmt == 0:
                if end - p < 11:
                    return None
                ts_field = _U24_AT.unpack_from(buf, p - 1)[0] & 0xFFFFFF
                length = _U24_AT.unpack_from(buf, p + 2)[0] & 0xFFFFFF
                type_id = buf[p + 6]
                stream_id = _U32LE.unpack_from(buf, p + 7)[0]
                p += 11
            elif stream is None:
                raise RtmpError(f"chunk stream {csid} starts with a fmt {fmt} header", "chunk")
            elif fmt == 1:
                if end - p < 7:
                    return None
                ts_field = _U24_AT.unpack_from(buf, p - 1)[0] & 0xFFFFFF
                length = _U24_AT.unpack_from(buf, p + 2)[0] & 0xFFFFFF
                type_id = buf[p + 6]
                stream_id = stream.stream_id
                p += 7
            else:
                if end - p < 3:
                    return None
                ts_field = _U24_AT.unpack_from(buf, p - 1)[0] & 0xFFFFFF
                length = stream.length
                type_id = stream.type_id
                stream_id = stream.stream_id
                p += 3
            ext: int | None = None
            if ts_field == EXTENDED:
                if end - p < 4:
                    return None
                ts_field = ext = _U32.unpack_from(buf, p)[0]
                p += 4
            if length > self.max_message_size:
                raise RtmpError(f"message of {length} bytes exceeds the "
                                f"{self.max_message_size}-byte limit", "limit")
            n = length if length < self.chunk_size else self.chunk_size
            if end - p < n:
                return None

            # The whole chunk is here: commit.
            if stream is None:
                if len(self._streams) >= self.max_chunk_streams:
                    raise RtmpError("too many chunk streams", "limit")
                stream = self._streams[csid] = _InStream()
            elif stream.partial is not None:
                # A new header before the previous message ended: that message is lost
                # (lenient, like an implicit Abort).
                self._pending -= len(stream.partial)
                stream.partial = None
            if fmt == 0:
                stream.timestamp = ts_field
                stream.stream_id = stream_id
            else:
                stream.timestamp = (stream.timestamp + ts_field) & _MASK32
            # After fmt 0 the delta a later fmt 3 reuses is the absolute timestamp (§2.2).
            stream.delta = ts_field
            stream.length = length
            stream.type_id = type_id
            stream.ext = ext
            self._pos = p + n
            if n == length:
                return Message(csid, stream.timestamp, type_id, stream_id, buf[p:p + n])
            partial = self._start_partial(stream, n)
            partial += memoryview(buf)[p:p + n]

    def _start_partial(self, stream: _InStream, n: int) -> bytearray:
        self._grow(n)
        partial = stream.partial = bytearray()
        return partial

    def _grow(self, n: int) -> None:
        self._pending += n
        if self._pending > self.reassembly_budget:
            raise RtmpError("partial messages exceed the reassembly budget", "limit")


def basic_header(fmt: int, csid: int) -> bytes:
    if 2 <= csid <= 63:
        return bytes(((fmt << 6) | csid,))
    if 64 <= csid <= 319:
        return bytes((fmt << 6, csid - 64))
    if 320 <= csid <= MAX_CSID:
        csid -= 64
        return bytes(((fmt << 6) | 1, csid & 0xFF, csid >> 8))
    raise ValueError(f"chunk stream id {csid} out of range")


class ChunkWriter:
    """Chunks messages with the most compact header §2.2 allows (fmt 0-3)."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.chunk_size = chunk_size
        """Change it only right after writing our own Set Chunk Size message."""
        self._streams: dict[int, _OutStream] = {}

    def write(self, out: bytearray, csid: int, timestamp: int, type_id: int, stream_id: int,
              payload: Buffer) -> None:
        for chunk in self.chunks(csid, timestamp, type_id, stream_id, payload):
            out += chunk

    def chunks(self, csid: int, timestamp: int, type_id: int, stream_id: int,
               payload: Buffer) -> list[bytes]:
        """The chunks of one message, in order; chunks of different csids may interleave."""
        if not 0 <= timestamp <= _MASK32:
            raise ValueError("timestamp must be a 32-bit unsigned value")
        length = len(payload)
        if length > MAX_CHUNK_SIZE:
            raise ValueError("message too long for RTMP")
        stream = self._streams.get(csid)
        if stream is None:
            stream = self._streams[csid] = _OutStream()
            fmt, field = 0, timestamp
        elif stream_id != stream.stream_id or timestamp < stream.timestamp:
            fmt, field = 0, timestamp
        else:
            field = timestamp - stream.timestamp
            if length != stream.length or type_id != stream.type_id:
                fmt = 1
            elif field == stream.delta:
                fmt = 3
            else:
                fmt = 2
        if fmt == 3:
            header = basic_header(3, csid)
            if stream.ext is not None:
                header += _U32.pack(stream.ext)
        else:
            ext = field if field >= EXTENDED else None
            ts24 = EXTENDED if ext is not None else field
            header = basic_header(fmt, csid) + ts24.to_bytes(3, "big")
            if fmt < 2:
                header += length.to_bytes(3, "big") + bytes((type_id,))
            if fmt == 0:
                header += _U32LE.pack(stream_id)
            if ext is not None:
                header += _U32.pack(ext)
            stream.delta = field
            stream.ext = ext
            stream.length = length
            stream.type_id = type_id
            stream.stream_id = stream_id
        stream.timestamp = timestamp

        view = memoryview(payload).cast("B")
        size = self.chunk_size
        out = [header + view[:size]]
        if length > size:
            cont = basic_header(3, csid)
            if stream.ext is not None:
                cont += _U32.pack(stream.ext)
            for start in range(size, length, size):
                out.append(cont + view[start:start + size])
        return out
