"""Player reports (time to first frame, latency) and the analytics read over them."""

from __future__ import annotations

import aiosqlite


class PlayerMetrics:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, stream_id: str, at: int, ttff_ms: int | None, latency_ms: int | None,
                  rendition: str) -> None:
        await self._db.execute(
            "INSERT INTO player_metrics (stream_id, at, ttff_ms, latency_ms, rendition)"
            " VALUES (?, ?, ?, ?, ?)", (stream_id, at, ttff_ms, latency_ms, rendition))

    async def values(self, stream_id: str, column: str, since: int) -> list[int]:
        """Every reported value of ``ttff_ms`` or ``latency_ms`` since ``since``, sorted."""
        if column not in ("ttff_ms", "latency_ms"):
            raise ValueError(column)
        async with self._db.execute(
            f"SELECT {column} FROM player_metrics WHERE stream_id = ? AND at >= ?"
            f" AND {column} IS NOT NULL ORDER BY {column}", (stream_id, since),
        ) as cur:
            return [int(row[0]) for row in await cur.fetchall()]

    async def prune(self, older_than: int) -> int:
        cur = await self._db.execute("DELETE FROM player_metrics WHERE at < ?", (older_than,))
        return cur.rowcount
