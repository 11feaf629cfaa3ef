"""Accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiosqlite

from mediad.clock import now_ms
from mediad.store.database import fetch_one

Role = Literal["admin", "creator", "viewer"]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    handle: str
    display_name: str
    role: Role
    password_hash: str
    created_at: int
    token_generation: int = 0
    """Put in every token issued; a password change adds one, refusing every older token."""


def _user(row: aiosqlite.Row) -> User:
    return User(row["id"], row["handle"], row["display_name"], row["role"],
                row["password_hash"], row["created_at"], row["token_generation"])


class UserRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def create(self, handle: str, display_name: str, role: Role,
                     password_hash: str) -> User:
        created = now_ms()
        row = await fetch_one(
            self._db,
            "INSERT INTO users (handle, display_name, role, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING *",
            (handle, display_name, role, password_hash, created))
        assert row is not None
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        row = await fetch_one(self._db, "SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def get_by_handle(self, handle: str) -> User | None:
        row = await fetch_one(self._db, "SELECT * FROM users WHERE handle = ?", (handle,))
        return _user(row) if row else None

    async def get_many(self, user_ids: set[int]) -> dict[int, User]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = await self._db.execute_fetchall(
            f"SELECT * FROM users WHERE id IN ({marks})", tuple(user_ids))
        return {row["id"]: _user(row) for row in rows}

    async def list(self) -> list[User]:
        async with self._db.execute("SELECT * FROM users ORDER BY id") as cur:
            return [_user(row) for row in await cur.fetchall()]

    async def count(self) -> int:
        row = await fetch_one(self._db, "SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0

    async def set_password_hash(self, user_id: int, password_hash: str) -> bool:
        """A new password, and a new token generation: every token issued before is void."""
        cur = await self._db.execute(
            "UPDATE users SET password_hash = ?, token_generation = token_generation + 1"
            " WHERE id = ?", (password_hash, user_id)
        )
        return cur.rowcount == 1
