"""Migration 0008: existing streams keep LL-HLS as their default; the setting is stored."""

from __future__ import annotations

from pathlib import Path

from mediad.store import Store
from mediad.store.database import load_migrations, open_database


async def test_existing_streams_default_to_llhls_and_the_setting_round_trips(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await open_database(path, [m for m in load_migrations() if m.version < 8])
    await db.execute("INSERT INTO users (handle, display_name, role, password_hash, created_at)"
                     " VALUES ('ann', 'Ann', 'creator', 'x', 1)")
    await db.execute("INSERT INTO streams (id, owner_id, title, created_at, updated_at,"
                     " watermark) VALUES ('s1', 1, 'show', 1, 1, 1)")
    await db.close()

    store = await Store.open(path)
    try:
        old = await store.streams.get("s1")
        assert old is not None and old.realtime_playback is False and old.watermark
        changed = await store.streams.update("s1", realtime_playback=True)
        assert changed is not None and changed.realtime_playback and changed.watermark
        fresh = await store.streams.create(1, "new")
        assert fresh.realtime_playback is False
    finally:
        await store.close()
    reopened = await Store.open(path)
    try:
        kept = await reopened.streams.get("s1")
        assert kept is not None and kept.realtime_playback
    finally:
        await reopened.close()
