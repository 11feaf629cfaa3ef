from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from mediad.store import Store
from mediad.store.database import (
    Migration,
    StoreError,
    load_migrations,
    open_database,
    schema_version,
)


async def tables(db: aiosqlite.Connection) -> set[str]:
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        return {row[0] for row in await cur.fetchall()}


def test_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_empty_database_is_migrated_to_latest(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "a.sqlite3")
    try:
        assert await schema_version(db) == load_migrations()[-1].version
        assert {"users", "streams", "stream_keys"} <= await tables(db)
        async with db.execute("PRAGMA journal_mode") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == "wal"
    finally:
        await db.close()


async def test_previous_schema_is_migrated_and_data_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    first = load_migrations()[:1]
    db = await open_database(path, first)
    await db.execute("INSERT INTO users (handle, display_name, role, password_hash, created_at)"
                     " VALUES ('ann', 'Ann', 'creator', 'x', 1)")
    await db.execute("INSERT INTO streams (id, owner_id, title, created_at, updated_at)"
                     " VALUES ('s1', 1, 'Old show', 1, 1)")
    await db.execute("INSERT INTO stream_keys VALUES ('s1', 'primary', 'k', 'h', 1)")
    assert await schema_version(db) == 1
    await db.close()

    store = await Store.open(path)
    try:
        assert await schema_version(store.db) == load_migrations()[-1].version
        stream = await store.streams.get("s1")
        assert stream is not None and stream.title == "Old show"
        assert stream.dvr_window_sec == 120 and not stream.age_restricted
        user = await store.users.get_by_handle("ANN")
        assert user is not None and user.role == "creator"
        assert (await store.keys.for_stream("s1"))["primary"].secret == "k"
    finally:
        await store.close()


async def test_reopening_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    await (await open_database(path)).close()
    db = await open_database(path)
    try:
        assert await schema_version(db) == len(load_migrations())
    finally:
        await db.close()


async def test_newer_database_is_refused_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = await open_database(path)
    await db.execute("PRAGMA user_version = 99")
    await db.close()
    with pytest.raises(StoreError, match="schema version 99"):
        await open_database(path)
    db = await aiosqlite.connect(path)
    try:
        assert "users" in await tables(db)
    finally:
        await db.close()


async def test_failed_migration_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    broken = [*load_migrations(), Migration(99, "0099_broken.sql",
                                            "CREATE TABLE extra (a);\nNOT SQL;")]
    with pytest.raises(aiosqlite.OperationalError):
        await open_database(path, broken)
    db = await open_database(path)
    try:
        assert "extra" not in await tables(db)
        assert await schema_version(db) == len(load_migrations())
    finally:
        await db.close()
