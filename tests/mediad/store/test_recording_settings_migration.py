"""Migration 0009: streams that never chose follow the server's recording defaults; the
creator's choices (record, keep days, private replays) are stored and survive a restart."""

from __future__ import annotations

from pathlib import Path

from mediad.store import Store
from mediad.store.database import load_migrations, open_database


async def test_existing_streams_follow_the_server_and_choices_round_trip(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await open_database(path, [m for m in load_migrations() if m.version < 9])
    await db.execute("INSERT INTO users (handle, display_name, role, password_hash, created_at)"
                     " VALUES ('ann', 'Ann', 'creator', 'x', 1)")
    await db.execute("INSERT INTO streams (id, owner_id, title, created_at, updated_at,"
                     " realtime_playback) VALUES ('s1', 1, 'show', 1, 1, 1)")
    await db.close()

    store = await Store.open(path)
    try:
        old = await store.streams.get("s1")
        assert old is not None and old.realtime_playback
        assert old.record is None and old.record_keep_days is None and old.replays_public
        assert old.records(True) and not old.records(False)
        assert old.keep_days(30) == 30
        changed = await store.streams.update("s1", record=False, record_keep_days=0,
                                             replays_public=False)
        assert changed is not None and changed.realtime_playback
        assert changed.record is False and not changed.records(True)
        assert changed.record_keep_days == 0 and changed.keep_days(30) == 0
        assert changed.replays_public is False
        fresh = await store.streams.create(1, "new")
        assert fresh.record is None and fresh.record_keep_days is None
        assert fresh.replays_public
    finally:
        await store.close()
    reopened = await Store.open(path)
    try:
        kept = await reopened.streams.get("s1")
        assert kept is not None
        assert (kept.record, kept.record_keep_days, kept.replays_public) == (False, 0, False)
        back = await reopened.streams.update("s1", record=True, record_keep_days=None)
        assert back is not None and back.record is True and back.record_keep_days is None
    finally:
        await reopened.close()


async def test_only_streams_with_public_replays_are_offered_to_discovery(
        tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.sqlite3")
    try:
        owner = await store.users.create("ann", "Ann", "creator", "x")
        public = await store.streams.create(owner.id, "public")
        private = await store.streams.create(owner.id, "private")
        await store.streams.update(private.id, replays_public=False)
        assert [s.id for s in await store.streams.with_public_replays()] == [public.id]
        await store.streams.update(private.id, replays_public=True)
        assert {s.id for s in await store.streams.with_public_replays()} == {
            public.id, private.id}
    finally:
        await store.close()
