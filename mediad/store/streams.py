"""Streams and their per-stream settings."""

from __future__ import annotations

import builtins
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite

from mediad.clock import now_ms
from mediad.store.database import fetch_one

StreamState = Literal["preview", "live", "reconnecting", "ended"]


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
    poster_url: str = ""
    start_at: int | None = None
    """Scheduled start, ms since the epoch (discovery lists scheduled streams with it)."""
    ended_at: int | None = None
    realtime_playback: bool = False
    """Real-time (WHEP) is the watch page's default playback mode, where the browser can."""
    record: bool | None = None
    """Whether its broadcasts are recorded; None until the creator chooses (the server's
    ``recording.enabled`` decides)."""
    record_keep_days: int | None = None
    """Days its broadcast recordings are kept; None: the server's ``recording.keep_days``,
    0: until deleted."""
    replays_public: bool = True
    """Anyone may list and watch its recordings and clips; otherwise only its creator,
    admins and its moderators."""

    def records(self, server_default: bool) -> bool:
        """Whether its broadcasts are recorded, ``recording.enabled`` given."""
        return server_default if self.record is None else self.record

    def keep_days(self, server_default: int) -> int:
        """Days its broadcast recordings are kept (0: until deleted), ``recording.keep_days``
        given."""
        return server_default if self.record_keep_days is None else self.record_keep_days


def _stream(row: aiosqlite.Row) -> Stream:
    return Stream(row["id"], row["owner_id"], row["title"], row["state"], row["created_at"],
                  row["updated_at"], row["dvr_window_sec"], bool(row["age_restricted"]),
                  bool(row["watermark"]), row["srt_passphrase"], row["slow_mode_sec"],
                  bool(row["guests_may_chat"]), tuple(json.loads(row["blocked_words"])),
                  row["pinned_message_id"], row["poster_url"], row["start_at"], row["ended_at"],
                  bool(row["realtime_playback"]), _optional_bool(row["record"]),
                  row["record_keep_days"], bool(row["replays_public"]))


def _optional_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _optional_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


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
    "poster_url": str,
    "start_at": lambda value: value,
    "realtime_playback": int,
    "record": _optional_int,
    "record_keep_days": lambda value: value,
    "replays_public": int,
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
        row = await fetch_one(
            self._db,
            "INSERT INTO streams (id, owner_id, title, state, created_at, updated_at,"
            " dvr_window_sec, srt_passphrase) VALUES (?, ?, ?, 'preview', ?, ?, ?, ?)"
            " RETURNING *",
            (new_stream_id(), owner_id, title, stamp, stamp, dvr_window_sec,
            new_srt_passphrase() if srt_passphrase is None else srt_passphrase))
        assert row is not None
        return _stream(row)

    async def get(self, stream_id: str) -> Stream | None:
        row = await fetch_one(self._db, "SELECT * FROM streams WHERE id = ?", (stream_id,))
        return _stream(row) if row else None

    async def list(self, owner_id: int | None = None) -> list[Stream]:
        query = "SELECT * FROM streams WHERE ?1 IS NULL OR owner_id = ?1 ORDER BY created_at"
        async with self._db.execute(query, (owner_id,)) as cur:
            return [_stream(row) for row in await cur.fetchall()]

    async def set_state(self, stream_id: str, state: StreamState) -> bool:
        """``ended_at`` is when the broadcast really ended (not when its publisher left:
        ``reconnecting`` keeps it); a new broadcast (``preview``) has none yet."""
        stamp = now_ms()
        cur = await self._db.execute(
            "UPDATE streams SET state = ?1, updated_at = ?2, ended_at = CASE ?1"
            " WHEN 'ended' THEN ?2 WHEN 'preview' THEN NULL ELSE ended_at END WHERE id = ?3",
            (state, stamp, stream_id),
        )
        return cur.rowcount == 1

    async def discover(self, *, ended_since: int, limit: int) -> builtins.list[Stream]:
        """Public discovery order: live (a reconnecting stream with them: its viewers are
        waiting for it), then scheduled (soonest first), then recently ended (latest
        first); previews that are neither scheduled nor ended are private."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM streams WHERE state IN ('live', 'reconnecting')"
            " OR (state = 'preview' AND start_at IS NOT NULL)"
            " OR (state = 'ended' AND ended_at >= ?)"
            " ORDER BY CASE state WHEN 'live' THEN 0 WHEN 'reconnecting' THEN 0"
            " WHEN 'preview' THEN 1 ELSE 2 END,"
            " CASE state WHEN 'preview' THEN start_at WHEN 'ended' THEN -ended_at"
            " ELSE -updated_at END, id LIMIT ?", (ended_since, limit))
        return [_stream(row) for row in rows]

    async def with_public_replays(self) -> builtins.list[Stream]:
        """Streams whose recordings anyone may list (discovery's recent replays)."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM streams WHERE replays_public = 1 ORDER BY created_at, id")
        return [_stream(row) for row in rows]

    async def delete(self, stream_id: str) -> bool:
        """The stream and all it owns (keys, chat, tips, its event log)."""
        for table in ("stream_events", "health_samples"):  # kept without a foreign key
            await self._db.execute(f"DELETE FROM {table} WHERE stream_id = ?", (stream_id,))
        cur = await self._db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
        return cur.rowcount == 1

    async def update(self, stream_id: str, **changes: Any) -> Stream | None:
        """Change the given fields (validated by the caller); the stream, or None if gone."""
        unknown = set(changes) - set(_UPDATABLE)
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        columns = [f"{name} = ?" for name in changes]
        values = [_UPDATABLE[name](value) for name, value in changes.items()]
        row = await fetch_one(
            self._db,
            f"UPDATE streams SET {', '.join([*columns, 'updated_at = ?'])} WHERE id = ?"
            " RETURNING *", (*values, now_ms(), stream_id))
        return _stream(row) if row else None
