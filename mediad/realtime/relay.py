"""What the bus brings, to where it goes: a stream's messages to this process's sockets
(the hub), bus-internal kinds to the one service that claimed them, and a copy of a kind
to the services that watch it."""

from __future__ import annotations

from mediad.realtime.bus import Bus, Sink
from mediad.realtime.hub import Hub
from mediad.realtime.messages import Message


class Relay:
    def __init__(self, bus: Bus, hub: Hub) -> None:
        self._bus = bus
        self._hub = hub
        self._claimed: dict[str, Sink] = {}
        self._watchers: dict[str, list[Sink]] = {}

    def claim(self, kind: str, handler: Sink) -> None:
        """Messages of ``kind`` are for ``handler`` alone, never for clients."""
        if kind in self._claimed:
            raise ValueError(f"{kind!r} is claimed already")
        self._claimed[kind] = handler

    def watch(self, kind: str, watcher: Sink) -> None:
        """``watcher`` sees every message of ``kind`` before the clients do."""
        self._watchers.setdefault(kind, []).append(watcher)

    async def start(self) -> None:
        await self._bus.start(self._received, self._hub.check_gaps)

    async def stop(self) -> None:
        await self._bus.close()

    def _received(self, stream_id: str, message: Message) -> None:
        kind = message.get("type", "")
        handler = self._claimed.get(kind)
        if handler is not None:
            handler(stream_id, message)
            return
        for watcher in self._watchers.get(kind, ()):
            watcher(stream_id, message)
        self._hub.deliver(stream_id, message)
