"""RTMP chunk stream (rtmp.md §2): message reassembly from chunks, and chunking for output.

``ChunkReader`` is resumable: ``feed()`` hands it bytes, ``next_message()`` returns complete
messages one at a time (so a Set Chunk Size can take effect before the next chunk is parsed)
and ``None`` when it needs more bytes. A chunk header is acted on only once it is whole, and
a chunk's body size is fixed by its header, so any split of the input yields the same
messages.
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
    payload: bytes | bytearray | memoryview
    """A view into the bytes fed when the message fit in one chunk, else its reassembly."""


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

    __slots__ = ("csid", "partial")

    def __init__(self, csid: int) -> None:
        super().__init__()
        self.csid = csid
        self.partial: bytearray | None = None


class ChunkReader:
    """Messages from the chunk stream, parsed where the bytes lie.

    ``feed`` keeps a reference to the bytes it is given (immutable ones: a ``bytearray`` is
    copied first). A message that fits in one chunk, all of it in one ``feed``, comes out as
    a view into those bytes; any other message is reassembled into one ``bytearray`` as its
    chunks' bodies arrive, even a body cut by the end of a ``feed``: that is its one copy.
    The reader's own buffer only holds a chunk header cut by the end of a ``feed`` and, while
    the application pauses parsing, what arrives meanwhile.
    """

    def __init__(
        self, *, max_message_size: int = 8 << 20, reassembly_budget: int | None = None,
        max_chunk_streams: int = 1024,
    ) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.max_message_size = max_message_size
        self.reassembly_budget = (2 * max_message_size if reassembly_budget is None
                                  else reassembly_budget)
        self.max_chunk_streams = max_chunk_streams
        self._held = bytearray()
        """Unparsed bytes the reader owns (from ``_held_pos``); they come first."""
        self._held_pos = 0
        self._input: memoryview = memoryview(b"")
        """The last ``feed``'s bytes, unparsed from ``_input_pos``."""
        self._input_pos = 0
        self._body: tuple[_InStream, bytearray] | None = None
        """The chunk stream whose chunk body is being received (its header is parsed), and
        the message it goes into."""
        self._body_left = 0
        self._streams: dict[int, _InStream] = {}
        self._pending = 0  # bytes held in partial messages, all csids together

    @property
    def buffered(self) -> int:
        """Bytes received but not yet parsed."""
        return len(self._held) - self._held_pos + len(self._input) - self._input_pos

    def feed(self, data: Buffer) -> None:
        held = self._held
        if self._held_pos:
            del held[:self._held_pos]
            self._held_pos = 0
        if self._input_pos < len(self._input):
            held += self._input[self._input_pos:]  # a cut header, or input while paused
        self._input = memoryview(bytes(data) if isinstance(data, bytearray) else data)
        self._input_pos = 0

    def set_limits(self, max_message_size: int, reassembly_budget: int) -> None:
        """Change the caps from the next chunk header on (RtmpConnection lifts its small
        pre-publish caps once the publish is accepted)."""
        self.max_message_size = max_message_size
        self.reassembly_budget = reassembly_budget

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
        while True:
            if self._body is not None:
                message = self._fill_body()
                if self._body is not None:
                    return None  # the rest of the body has not arrived
                if message is not None:
                    return message
            header = self._next_header()
            if header is None:
                return None
            csid, stream, n = header
            if stream.partial is None and n == stream.length:
                # A message in one chunk: as it lies, if it arrived whole.
                buf, pos, end, owned = self._source()
                if end - pos >= n:
                    self._advance(n)
                    return Message(csid, stream.timestamp, stream.type_id, stream.stream_id,
                                   _body(buf, pos, n, owned))
            partial = stream.partial
            if partial is None:
                partial = stream.partial = bytearray()
            self._pending += n
            if self._pending > self.reassembly_budget:
                raise RtmpError("partial messages exceed the reassembly budget", "limit")
            self._body = stream, partial
            self._body_left = n

    # -- where the unparsed bytes are ---------------------------------------------------------

    def _source(self) -> tuple[Buffer, int, int, bool]:
        """(buffer, position, end, whether the reader owns it) of the next unparsed bytes."""
        if self._held_pos < len(self._held):
            return self._held, self._held_pos, len(self._held), True
        return self._input, self._input_pos, len(self._input), False

    def _advance(self, n: int) -> None:
        if self._held_pos < len(self._held):
            self._held_pos += n
            if self._held_pos == len(self._held):
                self._held.clear()
                self._held_pos = 0
        else:
            self._input_pos += n

    def _fill_body(self) -> Message | None:
        """Move what has arrived of the current chunk body into its message; the message
        once its last chunk is complete."""
        if self._body is None:
            return None
        stream, partial = self._body
        left = self._body_left
        while left:
            buf, pos, end, _ = self._source()
            take = min(left, end - pos)
            if not take:
                break
            partial += memoryview(buf)[pos:pos + take]
            self._advance(take)
            left -= take
        self._body_left = left
        if left:
            return None
        self._body = None
        if len(partial) < stream.length:
            return None  # more chunks to come
        stream.partial = None
        self._pending -= stream.length
        return Message(stream.csid, stream.timestamp, stream.type_id, stream.stream_id,
                       partial)

    def _next_header(self) -> tuple[int, _InStream, int] | None:
        """The next chunk header, parsed and acted on: (csid, its stream, body size). A
        header cut by the end of the input waits, in the reader's buffer, for the rest."""
        while True:
            buf, pos, end, owned = self._source()
            if pos >= end:
                return None
            parsed = self._header(buf, pos, end)
            if isinstance(parsed, int):
                if not owned:
                    return None  # the rest comes with the next feed
                take = self._input[self._input_pos:self._input_pos + parsed]
                if not len(take):
                    return None
                self._held += take
                self._input_pos += len(take)
                continue
            after, csid, stream, n = parsed
            self._advance(after - pos)
            return csid, stream, n

    def _header(self, buf: Buffer, pos: int, end: int
                ) -> tuple[int, int, _InStream, int] | int:
        """(position after it, csid, stream, body size) of the chunk header at ``pos``,
        its state applied; or how many more bytes it needs at least (nothing applied)."""
        b0 = buf[pos]
        fmt = b0 >> 6
        csid = b0 & 0x3F
        if csid == 0:
            if end - pos < 2:
                return pos + 2 - end
            csid = buf[pos + 1] + 64
            p = pos + 2
        elif csid == 1:
            if end - pos < 3:
                return pos + 3 - end
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
                    return p + 4 - end
                if _U32.unpack_from(buf, p)[0] == stream.ext:
                    p += 4
            partial = stream.partial
            remaining = stream.length - len(partial) if partial is not None else stream.length
            if partial is None:
                stream.timestamp = (stream.timestamp + stream.delta) & _MASK32
            return p, csid, stream, min(remaining, self.chunk_size)

        if fmt and stream is None:  # fmt 1 and 2 build on the stream's previous header
            raise RtmpError(f"chunk stream {csid} starts with a fmt {fmt} header", "chunk")
        if fmt < 2:  # timestamp (delta), length, type; fmt 0 also the message stream id
            size = 11 - 4 * fmt
            if end - p < size:
                return p + size - end
            ts_field = _U24_AT.unpack_from(buf, p - 1)[0] & 0xFFFFFF
            length = _U24_AT.unpack_from(buf, p + 2)[0] & 0xFFFFFF
            type_id = buf[p + 6]
            stream_id = (stream.stream_id if fmt and stream is not None
                         else _U32LE.unpack_from(buf, p + 7)[0])
            p += size
        elif stream is not None:  # fmt 2: the timestamp delta only
            if end - p < 3:
                return p + 3 - end
            ts_field = _U24_AT.unpack_from(buf, p - 1)[0] & 0xFFFFFF
            length = stream.length
            type_id = stream.type_id
            stream_id = stream.stream_id
            p += 3
        ext: int | None = None
        if ts_field == EXTENDED:
            if end - p < 4:
                return p + 4 - end
            ts_field = ext = _U32.unpack_from(buf, p)[0]
            p += 4
        if length > self.max_message_size:
            raise RtmpError(f"message of {length} bytes exceeds the "
                            f"{self.max_message_size}-byte limit", "limit")

        # The whole header is here: apply it.
        if stream is None:
            if len(self._streams) >= self.max_chunk_streams:
                raise RtmpError("too many chunk streams", "limit")
            stream = self._streams[csid] = _InStream(csid)
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
        return p, csid, stream, min(length, self.chunk_size)


def _body(buf: Buffer, pos: int, size: int, owned: bool) -> Buffer:
    """A one-chunk message's payload: a view of the caller's bytes, a copy of ours."""
    view = memoryview(buf)[pos:pos + size]
    return bytes(view) if owned else view


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
