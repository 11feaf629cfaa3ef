"""Streams and their per-stream settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

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


def _stream(row: aiosqlite.Row) -> Stream:
    return Stream(row["id"], row["owner_id"], row["title"], row["state"], row["created_at"],
                  row["updated_at"], row["dvr_window_sec"], bool(row["age_restricted"]),
                  bool(row["watermark"]), row["srt_passphrase"])


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
