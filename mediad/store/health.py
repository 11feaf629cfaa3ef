"""Health samples of live streams, every 5 s: the control room's chart and analytics."""

from __future__ import annotations

import aiosqlite


class HealthSamples:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(self, stream_id: str, at: int, bitrate_kbps: float, fps: float,
                  drop_rate: float, viewers: int) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO health_samples (stream_id, at, bitrate_kbps, fps, drop_rate,"
            " viewers) VALUES (?, ?, ?, ?, ?, ?)",
            (stream_id, at, bitrate_kbps, fps, drop_rate, viewers))

    async def since(self, stream_id: str, since: int) -> list[tuple[int, float, float, float, int]]:
        async with self._db.execute(
            "SELECT at, bitrate_kbps, fps, drop_rate, viewers FROM health_samples"
            " WHERE stream_id = ? AND at >= ? ORDER BY at", (stream_id, since)
        ) as cur:
            return [(int(r[0]), float(r[1]), float(r[2]), float(r[3]), int(r[4]))
                    for r in await cur.fetchall()]

    async def prune(self, older_than: int) -> int:
        cur = await self._db.execute("DELETE FROM health_samples WHERE at < ?", (older_than,))
        return cur.rowcount
