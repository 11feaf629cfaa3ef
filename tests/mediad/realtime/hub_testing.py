"""A hub subscriber writing to a real socket, and the client end that reads its frames
(the hub's and the relay's tests)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from mediad.realtime.hub import Subscriber
from mediad.realtime.messages import OP_TEXT
from mediad.realtime.outbox import Outbox


class ClientEnd:
    """Reads the server frames the subscriber's outbox wrote (unmasked, RFC 6455)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def frame(self, timeout: float = 2.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """The messages of the next frame (one message, or a batch)."""
        async with asyncio.timeout(timeout):
            first, second = await self._reader.readexactly(2)
            assert first & 0x0F == OP_TEXT, f"opcode {first & 0x0F}"
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", await self._reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", await self._reader.readexactly(8))[0]
            body = json.loads(await self._reader.readexactly(size))
        return body if isinstance(body, list) else [body]

    async def seqs(self) -> list[int]:
        return [message["seq"] for message in await self.frame()]

    async def nothing(self, within: float = 0.2) -> None:
        try:
            found = await self.frame(timeout=within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {found}")


@asynccontextmanager
async def socket_subscriber() -> AsyncIterator[tuple[Subscriber, ClientEnd]]:
    """A JSON subscriber whose outbox writes to one end of a socket pair."""
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    reader, writer = await asyncio.open_connection(sock=theirs)
    outbox = Outbox(cast(asyncio.Transport, transport), max_frames=100, max_buffer=1 << 20)
    try:
        yield Subscriber(outbox, binary=False), ClientEnd(reader)
    finally:
        outbox.stop()
        transport.close()
        writer.close()
