"""The SQLite database: opened in WAL mode, migrated forward at start, never dropped."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from mediad.store.timed_connection import connect

log = logging.getLogger("mediad.store")

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_FOREIGN_KEYS_OFF = "-- mediad: foreign keys off"
"""A migration's first line when it rebuilds a table others refer to (SQLite changes no
constraint in place): dropping the old table must not cascade into its children."""


class StoreError(Exception):
    """The database cannot be used as it is (e.g. written by a newer mediad)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def foreign_keys_off(self) -> bool:
        return self.sql.startswith(_FOREIGN_KEYS_OFF)


def load_migrations() -> list[Migration]:
    """The numbered SQL files shipped in ``mediad/store/migrations``, in order."""
    found: list[Migration] = []
    for entry in resources.files("mediad.store").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(f"migration {migration.name}: expected number {expected:04d}")
    return found


async def open_database(path: str | Path, migrations: list[Migration] | None = None
                        ) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database at ``path``."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = await connect(path)
    try:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable in WAL mode against a process crash (only power loss can lose
        # the last commits), which is the failure a self-hosted daemon sees.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        await migrate(db, load_migrations() if migrations is None else migrations)
    except BaseException:
        await db.close()
        raise
    return db


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, migrations: list[Migration]) -> int:
    """Apply every migration newer than the database, each in its own transaction."""
    current = await schema_version(db)
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise StoreError(
            f"the database is at schema version {current}, newer than this mediad knows "
            f"({latest}); upgrade mediad or restore a backup"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("applying migration", extra={"fields": {"migration": migration.name}})
        if migration.foreign_keys_off:
            await _apply_without_foreign_keys(db, migration)
        else:
            await _apply(db, migration)
        current = migration.version
    return current


async def _apply(db: aiosqlite.Connection, migration: Migration) -> None:
    try:
        await db.execute("BEGIN IMMEDIATE")
        for statement in _statements(migration.sql):
            await db.execute(statement)
        if migration.foreign_keys_off:
            broken = list(await db.execute_fetchall("PRAGMA foreign_key_check"))
            if broken:
                raise StoreError(f"migration {migration.name} left {len(broken)} rows "
                                 "referring to nothing")
        await db.execute(f"PRAGMA user_version = {migration.version:d}")
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise


async def _apply_without_foreign_keys(db: aiosqlite.Connection, migration: Migration) -> None:
    """SQLite's way of rebuilding a table: foreign keys off around the transaction (the
    pragma is a no-op inside one), every reference checked before it commits."""
    enforced = await db.execute_fetchall("PRAGMA foreign_keys")
    await db.execute("PRAGMA foreign_keys = OFF")
    try:
        await _apply(db, migration)
    finally:
        if enforced and next(iter(enforced))[0]:
            await db.execute("PRAGMA foreign_keys = ON")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (our migrations hold no ';' inside literals)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


async def fetch_one(db: aiosqlite.Connection, sql: str,
                    parameters: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
    """The first row, in one round trip to the store's thread (``execute`` then
    ``fetchone`` on a cursor costs three, each waiting for the loop)."""
    rows = await db.execute_fetchall(sql, parameters)
    return next(iter(rows), None)
