"""Streams and their per-stream settings."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite

from mediad.clock import now_ms

StreamState = Literal["preview", "live", "ended"]


@dataclass(frozen=True, slots=True)
class Stream:
    id: str
    owner_id: int
    title: str
    state: StreamState
    created_at: int
    updated_at: int
    dvr_window_sec: int
    age_restricted: bool
    watermark: bool
    srt_passphrase: str
    slow_mode_sec: int = 0
    guests_may_chat: bool = True
    blocked_words: tuple[str, ...] = ()
    pinned_message_id: str | None = None


def _stream(row: aiosqlite.Row) -> Stream:
    return Stream(row["id"], row["owner_id"], row["title"], row["state"], row["created_at"],
                  row["updated_at"], row["dvr_window_sec"], bool(row["age_restricted"]),
                  bool(row["watermark"]), row["srt_passphrase"], row["slow_mode_sec"],
                  bool(row["guests_may_chat"]), tuple(json.loads(row["blocked_words"])),
                  row["pinned_message_id"])


# Stream fields a caller may change with ``update``, and how each is stored.
_UPDATABLE: dict[str, Any] = {
    "title": str,
    "dvr_window_sec": int,
    "age_restricted": int,
    "watermark": int,
    "slow_mode_sec": int,
    "guests_may_chat": int,
    "blocked_words": lambda words: json.dumps(list(words)),
    "pinned_message_id": lambda value: value,
}


def new_stream_id() -> str:
    return secrets.token_hex(6)


def new_srt_passphrase() -> str:
    # libsrt accepts 10..79 characters; 32 URL-safe characters carry 192 bits.
    return secrets.token_urlsafe(24)


class StreamRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def create(self, owner_id: int, title: str, *, dvr_window_sec: int = 120,
                     srt_passphrase: str | None = None) -> Stream:
        stamp = now_ms()
        async with self._db.execute(
            "INSERT INTO streams (id, owner_id, title, state, created_at, updated_at,"
            " dvr_window_sec, srt_passphrase) VALUES (?, ?, ?, 'preview', ?, ?, ?, ?)"
            " RETURNING *",
            (new_stream_id(), owner_id, title, stamp, stamp, dvr_window_sec,
             new_srt_passphrase() if srt_passphrase is None else srt_passphrase),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return _stream(row)

    async def get(self, stream_id: str) -> Stream | None:
        async with self._db.execute("SELECT * FROM streams WHERE id = ?", (stream_id,)) as cur:
            row = await cur.fetchone()
        return _stream(row) if row else None

    async def list(self, owner_id: int | None = None) -> list[Stream]:
        query = "SELECT * FROM streams WHERE ?1 IS NULL OR owner_id = ?1 ORDER BY created_at"
        async with self._db.execute(query, (owner_id,)) as cur:
            return [_stream(row) for row in await cur.fetchall()]

    async def set_state(self, stream_id: str, state: StreamState) -> bool:
        cur = await self._db.execute(
            "UPDATE streams SET state = ?, updated_at = ? WHERE id = ?",
            (state, now_ms(), stream_id),
        )
        return cur.rowcount == 1

    async def update(self, stream_id: str, **changes: Any) -> Stream | None:
        """Change the given fields (validated by the caller); the stream, or None if gone."""
        unknown = set(changes) - set(_UPDATABLE)
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        columns = [f"{name} = ?" for name in changes]
        values = [_UPDATABLE[name](value) for name, value in changes.items()]
        async with self._db.execute(
            f"UPDATE streams SET {', '.join([*columns, 'updated_at = ?'])} WHERE id = ?"
            " RETURNING *", (*values, now_ms(), stream_id),
        ) as cur:
            row = await cur.fetchone()
        return _stream(row) if row else None
