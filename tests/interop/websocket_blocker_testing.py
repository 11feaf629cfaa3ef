"""A TCP proxy in front of the daemon that can stop passing WebSockets, as some corporate
proxies and captive portals do: while it blocks, a WebSocket handshake is answered 403
and the WebSockets it carried are cut; every other request passes as it came. The browser
e2e journey uses it to drive the chat from its WebSocket to HTTP polling and back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

HEAD_LIMIT = 64 * 1024
REFUSAL = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def is_websocket_handshake(head: bytes) -> bool:
    """Whether a request head asks to upgrade to a WebSocket."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


class WebSocketBlocker:
    """Listens on 127.0.0.1 (``url``) and forwards to ``upstream_port``, on a loop of its own
    thread, until ``close``. A browser opens a connection of its own for each WebSocket, so
    the first request head on a connection tells which ones are WebSockets."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.blocking = False
        self.refused = 0
        self.cut = 0
        self._sockets: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def _call(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    def block(self) -> None:
        """Refuse WebSocket handshakes from now on, and cut the WebSockets open now."""
        async def cut() -> None:
            self.blocking = True
            for writer in list(self._sockets):
                self.cut += 1
                writer.transport.abort()
        self._call(cut())

    def allow(self) -> None:
        async def allow() -> None:
            self.blocking = False
        self._call(allow())

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in list(self._sockets):
                writer.transport.abort()
        self._call(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> WebSocketBlocker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.transport.abort()
            return
        websocket = is_websocket_handshake(head[:HEAD_LIMIT])
        if websocket and self.blocking:
            self.refused += 1
            writer.write(REFUSAL)
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        if websocket:
            self._sockets.add(writer)
        up_writer.write(head)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._sockets.discard(writer)
            writer.transport.abort()
            up_writer.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        # One side done: the other cannot carry on alone (a proxy, not a half-close relay).
        sink.transport.abort()
