"""Persistent state in SQLite: one connection, numbered migrations, a repository per table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from mediad.store.audit import KeyEvents
from mediad.store.chat import ChatRepository, ModeratorRepository
from mediad.store.checkpoints import Checkpointer
from mediad.store.database import StoreError, open_database
from mediad.store.events import EventLog
from mediad.store.health import HealthSamples
from mediad.store.keys import StreamKeyRepository
from mediad.store.metrics import PlayerMetrics
from mediad.store.sessions import RefreshTokens
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
    refresh_tokens: RefreshTokens
    key_events: KeyEvents
    player_metrics: PlayerMetrics
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _checkpointer: Checkpointer | None = None

    @classmethod
    async def open(cls, path: str | Path, *, background_checkpoints: bool = False) -> Store:
        """``background_checkpoints``: for the long-running daemon (``checkpoints.py``)."""
        db = await open_database(path)
        checkpointer = None
        if background_checkpoints and str(path) != ":memory:":
            checkpointer = Checkpointer(path)
            await checkpointer.start(db)
        return cls(db, UserRepository(db), StreamRepository(db), StreamKeyRepository(db),
                   ChatRepository(db), ModeratorRepository(db), TipRepository(db),
                   EventLog(db), HealthSamples(db), RefreshTokens(db), KeyEvents(db),
                   PlayerMetrics(db), _checkpointer=checkpointer)

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
        if self._checkpointer is not None:
            await self._checkpointer.stop()
