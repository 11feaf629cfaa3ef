"""Migration 0007: tips keep their rows and ids; keys become unique per stream."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from mediad.store import Store
from mediad.store.database import load_migrations, open_database


async def test_tips_survive_and_keys_are_scoped_per_stream(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    before = [m for m in load_migrations() if m.version < 7]
    db = await open_database(path, before)
    await db.execute("INSERT INTO users (handle, display_name, role, password_hash, created_at)"
                     " VALUES ('ann', 'Ann', 'creator', 'x', 1)")
    for stream_id in ("s1", "s2"):
        await db.execute("INSERT INTO streams (id, owner_id, title, created_at, updated_at)"
                         " VALUES (?, 1, 'show', 1, 1)", (stream_id,))
    await db.execute("INSERT INTO tips (id, stream_id, idempotency_key, amount_minor, currency,"
                     " sender, message, created_at) VALUES (41, 's1', 'k', 500, 'EUR', 'Ada',"
                     " 'hi', 7)")
    with pytest.raises(aiosqlite.IntegrityError):  # the old rule: one key for all streams
        await db.execute("INSERT INTO tips (stream_id, idempotency_key, amount_minor, currency,"
                         " sender, message, created_at) VALUES ('s2', 'k', 1, 'EUR', '', '', 8)")
    await db.close()

    store = await Store.open(path)
    try:
        (kept,) = await store.tips.for_stream("s1")
        assert (kept.id, kept.idempotency_key, kept.amount_minor, kept.message) == (41, "k",
                                                                                   500, "hi")
        tip, new = await store.tips.add("s2", "k", 900, "EUR", "Bo", "", 9)
        assert new and tip.id != 41 and tip.stream_id == "s2"
        again, new = await store.tips.add("s1", "k", 500, "EUR", "Ada", "hi", 10)
        assert not new and again.id == 41
        async with store.db.execute("PRAGMA index_list(tips)") as cur:
            indexes = {row["name"] for row in await cur.fetchall()}
        assert "tips_stream" in indexes
    finally:
        await store.close()
