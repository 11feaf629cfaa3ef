"""Persistent state in SQLite: one connection, numbered migrations, a repository per table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from mediad.store.database import StoreError, open_database
from mediad.store.keys import StreamKeyRepository
from mediad.store.streams import StreamRepository
from mediad.store.users import UserRepository

__all__ = ["Store", "StoreError"]


@dataclass(slots=True)
class Store:
    db: aiosqlite.Connection
    users: UserRepository
    streams: StreamRepository
    keys: StreamKeyRepository

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        db = await open_database(path)
        return cls(db, UserRepository(db), StreamRepository(db), StreamKeyRepository(db))

    async def close(self) -> None:
        await self.db.close()
