"""Durable messages: written to the store (with what they report) before anyone hears them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mediad.clock import now_ms
from mediad.realtime.bus import Bus
from mediad.realtime.messages import Message, encode_json
from mediad.store import Store


class Recorder:
    def __init__(self, store: Store, bus: Bus) -> None:
        self.store = store
        self.bus = bus

    async def record(self, stream_id: str, message: Message,
                     write: Callable[[], Awaitable[object]] | None = None) -> Message | None:
        """In one transaction, ``write`` (the change itself) and the message with its
        ``seq``; then publish. Returns the message as published, or None when ``write``
        returned False (nothing changed, nothing to tell); a dict it returns is merged into
        the message (fields only known once written, such as a row id)."""
        store = self.store
        async with store.transaction():
            written = None if write is None else await write()
            if written is False:
                return None
            if isinstance(written, dict):
                message = {**message, **written}
            seq = await store.events.append_next(stream_id, encode_json(message).decode(),
                                                 now_ms())
            message = {**message, "seq": seq}
        await self.bus.publish(stream_id, message)
        return message

    async def broadcast(self, stream_id: str, message: Message) -> None:
        """Ephemeral (health, viewers): not kept, not resumed."""
        await self.bus.publish(stream_id, message)
