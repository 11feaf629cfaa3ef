"""WAL checkpoints on a connection (and thread) of their own.

SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, and a
checkpoint is the one step that fsyncs the database file: on the daemon's single store
connection that stalls every query queued behind it (chat sends waited hundreds of ms).
Here the busy connection never checkpoints; this one does, PASSIVE (it never blocks the
writer, it copies what it can), every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import aiosqlite

from mediad.metrics.store import STORE_CHECKPOINT_SECONDS

log = logging.getLogger("mediad.store")

INTERVAL_SEC = 1.0


class Checkpointer:
    def __init__(self, path: str | Path, interval_sec: float = INTERVAL_SEC) -> None:
        self.path = str(path)
        self.interval_sec = interval_sec
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, writer: aiosqlite.Connection) -> None:
        await writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        await self._db.execute("PRAGMA busy_timeout = 5000")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def checkpoint(self, mode: str = "PASSIVE") -> None:
        if self._db is not None:
            started = time.perf_counter()
            await self._db.execute(f"PRAGMA wal_checkpoint({mode})")
            STORE_CHECKPOINT_SECONDS.observe(time.perf_counter() - started)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_sec)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed")

    async def stop(self) -> None:
        """Stop, leaving the WAL emptied into the database file."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._db is not None:
            try:
                await self.checkpoint("TRUNCATE")
            except Exception:
                log.exception("final WAL checkpoint failed")
            await self._db.close()
            self._db = None
