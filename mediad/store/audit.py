"""The key audit log: every reveal and rotation of a stream key, with who and from where."""

from __future__ import annotations

from typing import Any, Literal

import aiosqlite

from mediad.store.keys import KeyKind

KeyAction = Literal["reveal", "rotate"]


class KeyEvents:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, stream_id: str, kind: KeyKind, action: KeyAction, actor_id: int,
                  actor: str, ip: str, at: int) -> None:
        await self._db.execute(
            "INSERT INTO key_events (stream_id, kind, action, actor_id, actor, ip, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (stream_id, kind, action, actor_id, actor, ip, at))

    async def for_stream(self, stream_id: str, limit: int = 50) -> list[dict[str, Any]]:
        async with self._db.execute(
            "SELECT kind, action, actor, ip, at FROM key_events WHERE stream_id = ?"
            " ORDER BY id DESC LIMIT ?", (stream_id, limit),
        ) as cur:
            return [dict(row) for row in await cur.fetchall()]
