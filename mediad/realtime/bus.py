"""The bus that carries real-time messages between mediad processes.

In one process it is a function call. With ``realtime.bus = "redis"`` every process
publishes to Redis and hears every other process's messages (``redis_bus.py``). Either way
the publishing process delivers to its own clients at once, without a round trip.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

from mediad.config import RealtimeConfig
from mediad.realtime.messages import Message

Sink = Callable[[str, Message], None]
"""Called with (stream id, message) for every message, local or from another process."""


class Bus(Protocol):
    instance_id: str
    shared: bool
    """Other processes publish too: durable events may arrive out of order or be missed
    while disconnected, so receivers check the event log for gaps."""

    async def start(self, sink: Sink, reconnected: Callable[[], None]) -> None: ...

    async def publish(self, stream_id: str, message: Message) -> None: ...

    async def close(self) -> None: ...


class InProcessBus:
    shared = False

    def __init__(self) -> None:
        self.instance_id = secrets.token_hex(4)
        self._sink: Sink | None = None

    async def start(self, sink: Sink, reconnected: Callable[[], None]) -> None:
        self._sink = sink

    async def publish(self, stream_id: str, message: Message) -> None:
        if self._sink is not None:
            self._sink(stream_id, message)

    async def close(self) -> None:
        self._sink = None


def make_bus(config: RealtimeConfig) -> Bus:
    if config.bus == "redis":
        from mediad.realtime.redis_bus import RedisBus

        return RedisBus(config.redis_url, config.redis_prefix)
    return InProcessBus()
