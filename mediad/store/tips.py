"""The tip ledger: amounts in minor units, one row per (stream, provider idempotency key)."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class Tip:
    id: int
    stream_id: str
    idempotency_key: str
    amount_minor: int
    currency: str
    sender: str
    message: str
    created_at: int


def _tip(row: aiosqlite.Row) -> Tip:
    return Tip(row["id"], row["stream_id"], row["idempotency_key"], row["amount_minor"],
               row["currency"], row["sender"], row["message"], row["created_at"])


class TipRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, stream_id: str, idempotency_key: str, amount_minor: int, currency: str,
                  sender: str, message: str, at: int) -> tuple[Tip, bool]:
        """The tip and whether it is new (False: this key was recorded before for this
        stream; on another stream the same key is another tip)."""
        async with self._db.execute(
            "INSERT INTO tips (stream_id, idempotency_key, amount_minor, currency, sender,"
            " message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (stream_id, idempotency_key) DO NOTHING RETURNING *",
            (stream_id, idempotency_key, amount_minor, currency, sender, message, at),
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            return _tip(row), True
        async with self._db.execute(
            "SELECT * FROM tips WHERE stream_id = ? AND idempotency_key = ?",
            (stream_id, idempotency_key)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return _tip(row), False

    async def for_stream(self, stream_id: str, limit: int = 100) -> list[Tip]:
        async with self._db.execute(
            "SELECT * FROM tips WHERE stream_id = ? ORDER BY id DESC LIMIT ?", (stream_id, limit)
        ) as cur:
            return [_tip(row) for row in await cur.fetchall()]

    async def totals(self, stream_id: str, since: int = 0) -> dict[str, tuple[int, int]]:
        """Per currency, the sum and the number of tips (currencies are never added up)."""
        async with self._db.execute(
            "SELECT currency, SUM(amount_minor), COUNT(*) FROM tips WHERE stream_id = ?"
            " AND created_at >= ? GROUP BY currency ORDER BY currency", (stream_id, since)
        ) as cur:
            return {row[0]: (int(row[1]), int(row[2])) for row in await cur.fetchall()}
