"""The per-stream event log: what a client that reconnects or polls resumes from.

``seq`` counts 1, 2, 3... within a stream with no gaps, allocated inside the writer's
transaction, so several mediad processes sharing the database never hand out one twice.
"""

from __future__ import annotations

import aiosqlite

from mediad.store.database import fetch_one


class EventLog:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def append_next(self, stream_id: str, body: str, at: int) -> int:
        """Append ``body`` (a JSON object) under the stream's next seq, which is also set
        as its ``seq`` field; returns that seq. One statement: call it inside the writer's
        transaction, which holds the database's write lock for as few round trips as can be."""
        rows = await self._db.execute_fetchall(
            "INSERT INTO stream_events (stream_id, seq, body, created_at)"
            " SELECT ?1, n, json_set(?2, '$.seq', n), ?3 FROM"
            " (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM stream_events WHERE stream_id = ?1)"
            " RETURNING seq", (stream_id, body, at))
        return int(next(iter(rows))[0])

    async def append(self, stream_id: str, seq: int, body: str, at: int) -> None:
        await self._db.execute(
            "INSERT INTO stream_events (stream_id, seq, body, created_at) VALUES (?, ?, ?, ?)",
            (stream_id, seq, body, at))

    async def latest_seq(self, stream_id: str) -> int:
        row = await fetch_one(
            self._db, "SELECT MAX(seq) FROM stream_events WHERE stream_id = ?", (stream_id,))
        return 0 if row is None or row[0] is None else int(row[0])

    async def oldest_seq(self, stream_id: str) -> int:
        async with self._db.execute(
            "SELECT MIN(seq) FROM stream_events WHERE stream_id = ?", (stream_id,)
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    async def since(self, stream_id: str, cursor: int, limit: int) -> list[tuple[int, str]]:
        """Events after ``cursor``, in order: (seq, body)."""
        async with self._db.execute(
            "SELECT seq, body FROM stream_events WHERE stream_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?", (stream_id, cursor, limit)
        ) as cur:
            return [(int(r[0]), str(r[1])) for r in await cur.fetchall()]

    async def prune(self, older_than: int) -> int:
        """Forget events written before ``older_than`` (ms), keeping each stream's newest."""
        cur = await self._db.execute(
            "DELETE FROM stream_events WHERE created_at < ? AND seq < (SELECT MAX(seq)"
            " FROM stream_events AS newest WHERE newest.stream_id = stream_events.stream_id)",
            (older_than,))
        return cur.rowcount
