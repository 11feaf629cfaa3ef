"""Frames to one WebSocket, never slowing the others.

While the socket keeps up, a frame goes straight to its transport (one ``write``, no task
switch: that is what lets one process feed thousands of sockets). When the kernel buffer
backs up, frames wait in a bounded queue that the socket's own writer task drains as the
peer reads; when that queue is full, or stays stuck, the client is cut off.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable

from mediad.realtime.messages import OP_CLOSE, ws_frame

CLOSE_TOO_SLOW = 1013  # "try again later": the client may reconnect and resume
_POLL_SEC = 0.02


class Outbox:
    def __init__(self, transport: asyncio.Transport, *, max_frames: int, max_buffer: int,
                 stall_timeout: float = 10.0,
                 on_close: Callable[[str], None] = lambda reason: None) -> None:
        self._transport = transport
        self.max_frames = max_frames
        self.max_buffer = max_buffer
        self.stall_timeout = stall_timeout
        self._on_close = on_close
        self._queue: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self.closed = False
        self.frames_sent = 0

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        transport = self._transport
        if transport.is_closing():
            self.closed = True
            return
        if not self._queue and transport.get_write_buffer_size() <= self.max_buffer:
            transport.write(frame)
            self.frames_sent += 1
            return
        if len(self._queue) >= self.max_frames:
            self.cut_off("client too slow: outbound queue full")
            return
        self._queue.append(frame)
        self._wakeup.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        """The socket's writer task: drains the queue as the peer reads."""
        transport = self._transport
        loop = asyncio.get_running_loop()
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            stuck_since = loop.time()
            while self._queue and not self.closed:
                if transport.is_closing():
                    self.closed = True
                    return
                if transport.get_write_buffer_size() > self.max_buffer:
                    if loop.time() - stuck_since > self.stall_timeout:
                        self.cut_off("client too slow: not reading")
                        return
                    await asyncio.sleep(_POLL_SEC)
                    continue
                transport.write(self._queue.popleft())
                self.frames_sent += 1
                stuck_since = loop.time()

    def cut_off(self, reason: str) -> None:
        """Close with 1013 and the reason; the unsent backlog is dropped."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._wakeup.set()
        transport = self._transport
        if not transport.is_closing():
            transport.write(ws_frame(struct.pack("!H", CLOSE_TOO_SLOW) + reason.encode()[:120],
                                     OP_CLOSE))
            transport.close()
            # A peer that reads nothing would keep a closing transport forever.
            asyncio.get_running_loop().call_later(5.0, transport.abort)
        self._on_close(reason)

    def stop(self) -> None:
        self.closed = True
        self._queue.clear()
        self._wakeup.set()
