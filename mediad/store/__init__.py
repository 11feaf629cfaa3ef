"""Persistent state in SQLite: one connection, numbered migrations, a repository per table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from mediad.store.chat import ChatRepository, ModeratorRepository
from mediad.store.database import StoreError, open_database
from mediad.store.events import EventLog
from mediad.store.health import HealthSamples
from mediad.store.keys import StreamKeyRepository
from mediad.store.streams import StreamRepository
from mediad.store.tips import TipRepository
from mediad.store.users import UserRepository

__all__ = ["Store", "StoreError"]


@dataclass(slots=True)
class Store:
    db: aiosqlite.Connection
    users: UserRepository
    streams: StreamRepository
    keys: StreamKeyRepository
    chat: ChatRepository
    moderators: ModeratorRepository
    tips: TipRepository
    events: EventLog
    health: HealthSamples
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        db = await open_database(path)
        return cls(db, UserRepository(db), StreamRepository(db), StreamKeyRepository(db),
                   ChatRepository(db), ModeratorRepository(db), TipRepository(db),
                   EventLog(db), HealthSamples(db))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One write transaction at a time on the shared connection (IMMEDIATE: it takes
        the write lock at once, so another process sharing the file waits, not fails)."""
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def close(self) -> None:
        await self.db.close()
