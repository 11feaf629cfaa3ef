"""Chat messages, bans and timeouts, moderation actions and per-stream moderators."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from mediad.store.database import fetch_one


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    stream_id: str
    author_id: str
    author_handle: str
    author_role: str
    text: str
    created_at: int
    deleted_at: int | None = None


@dataclass(frozen=True, slots=True)
class Sanction:
    subject: str
    handle: str
    banned: bool
    muted_until: int


def _message(row: aiosqlite.Row) -> ChatMessage:
    return ChatMessage(row["id"], row["stream_id"], row["author_id"], row["author_handle"],
                       row["author_role"], row["text"], row["created_at"], row["deleted_at"])


class ChatRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, message: ChatMessage) -> None:
        await self._db.execute(
            "INSERT INTO chat_messages (id, stream_id, author_id, author_handle, author_role,"
            " text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (message.id, message.stream_id, message.author_id, message.author_handle,
             message.author_role, message.text, message.created_at))

    async def get(self, stream_id: str, message_id: str) -> ChatMessage | None:
        row = await fetch_one(
            self._db,
            "SELECT * FROM chat_messages WHERE stream_id = ? AND id = ?", (stream_id, message_id))
        return _message(row) if row else None

    async def recent(self, stream_id: str, limit: int) -> list[ChatMessage]:
        """The last ``limit`` visible messages, oldest first."""
        async with self._db.execute(
            "SELECT * FROM chat_messages WHERE stream_id = ? AND deleted_at IS NULL"
            " ORDER BY created_at DESC, rowid DESC LIMIT ?", (stream_id, limit)
        ) as cur:
            rows = await cur.fetchall()
        return [_message(row) for row in reversed(list(rows))]

    async def count(self, stream_id: str, since: int = 0) -> int:
        row = await fetch_one(
            self._db,
            "SELECT COUNT(*) FROM chat_messages WHERE stream_id = ? AND created_at >= ?",
            (stream_id, since))
        return int(row[0]) if row else 0

    async def last_sent_at(self, stream_id: str, author_id: str) -> int | None:
        row = await fetch_one(
            self._db,
            "SELECT MAX(created_at) FROM chat_messages WHERE stream_id = ? AND author_id = ?",
            (stream_id, author_id))
        return None if row is None or row[0] is None else int(row[0])

    async def delete(self, stream_id: str, message_id: str, by: str, at: int) -> bool:
        cur = await self._db.execute(
            "UPDATE chat_messages SET deleted_at = ?, deleted_by = ?"
            " WHERE stream_id = ? AND id = ? AND deleted_at IS NULL",
            (at, by, stream_id, message_id))
        return cur.rowcount == 1

    async def clear(self, stream_id: str, by: str, at: int) -> int:
        cur = await self._db.execute(
            "UPDATE chat_messages SET deleted_at = ?, deleted_by = ?"
            " WHERE stream_id = ? AND deleted_at IS NULL", (at, by, stream_id))
        return cur.rowcount

    async def sanction(self, stream_id: str, subject: str) -> Sanction | None:
        row = await fetch_one(
            self._db,
            "SELECT * FROM chat_sanctions WHERE stream_id = ? AND subject = ?",
            (stream_id, subject))
        if row is None:
            return None
        return Sanction(row["subject"], row["handle"], bool(row["banned"]), row["muted_until"])

    async def set_sanction(self, stream_id: str, subject: str, handle: str, at: int, *,
                           banned: bool | None = None, muted_until: int | None = None) -> None:
        """Set what is given; a new row starts neither banned nor muted."""
        await self._db.execute(
            "INSERT INTO chat_sanctions (stream_id, subject, handle, banned, muted_until,"
            " updated_at) VALUES (?1, ?2, ?3, COALESCE(?4, 0), COALESCE(?5, 0), ?6)"
            " ON CONFLICT (stream_id, subject) DO UPDATE SET handle = ?3,"
            " banned = COALESCE(?4, banned), muted_until = COALESCE(?5, muted_until),"
            " updated_at = ?6",
            (stream_id, subject, handle, None if banned is None else int(banned), muted_until,
             at))

    async def banned(self, stream_id: str) -> list[Sanction]:
        async with self._db.execute(
            "SELECT * FROM chat_sanctions WHERE stream_id = ? AND banned = 1 ORDER BY handle",
            (stream_id,)
        ) as cur:
            return [Sanction(r["subject"], r["handle"], True, r["muted_until"])
                    for r in await cur.fetchall()]

    async def log_action(self, stream_id: str, action: str, actor_id: str, actor_handle: str,
                         target: str | None, details: dict[str, Any], at: int) -> None:
        await self._db.execute(
            "INSERT INTO moderation_actions (stream_id, action, actor_id, actor_handle, target,"
            " details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stream_id, action, actor_id, actor_handle, target, json.dumps(details), at))

    async def actions(self, stream_id: str, limit: int = 100) -> list[dict[str, Any]]:
        async with self._db.execute(
            "SELECT * FROM moderation_actions WHERE stream_id = ? ORDER BY id DESC LIMIT ?",
            (stream_id, limit)
        ) as cur:
            rows = await cur.fetchall()
        return [{"action": r["action"], "actorId": r["actor_id"],
                 "actorHandle": r["actor_handle"], "target": r["target"],
                 "details": json.loads(r["details"]), "at": r["created_at"]} for r in rows]


class ModeratorRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, stream_id: str, user_id: int, at: int) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO stream_moderators (stream_id, user_id, added_at)"
            " VALUES (?, ?, ?)", (stream_id, user_id, at))

    async def remove(self, stream_id: str, user_id: int) -> bool:
        cur = await self._db.execute(
            "DELETE FROM stream_moderators WHERE stream_id = ? AND user_id = ?",
            (stream_id, user_id))
        return cur.rowcount == 1

    async def is_moderator(self, stream_id: str, user_id: int) -> bool:
        return await fetch_one(
            self._db,
            "SELECT 1 FROM stream_moderators WHERE stream_id = ? AND user_id = ?",
            (stream_id, user_id)) is not None

    async def for_stream(self, stream_id: str) -> list[int]:
        async with self._db.execute(
            "SELECT user_id FROM stream_moderators WHERE stream_id = ? ORDER BY user_id",
            (stream_id,)
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def streams_of(self, user_id: int) -> list[str]:
        rows = await self._db.execute_fetchall(
            "SELECT stream_id FROM stream_moderators WHERE user_id = ? ORDER BY stream_id",
            (user_id,))
        return [str(r[0]) for r in rows]
