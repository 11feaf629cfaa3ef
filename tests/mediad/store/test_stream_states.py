"""A stream's lifecycle state in the store: ``reconnecting`` is storable (migration 0005
rebuilds the table without losing what refers to it), ``ended_at`` is set only by a real
end, and discovery lists a reconnecting stream with the live ones."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from mediad.clock import now_ms
from mediad.store import Store
from mediad.store.database import load_migrations, open_database


async def test_a_database_from_before_0005_keeps_its_streams_and_their_keys(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await open_database(path, load_migrations()[:4])
    await db.execute("INSERT INTO users (handle, display_name, role, password_hash, created_at)"
                     " VALUES ('ann', 'Ann', 'creator', 'x', 1)")
    await db.execute("INSERT INTO streams (id, owner_id, title, state, created_at, updated_at,"
                     " poster_url, ended_at) VALUES ('s1', 1, 'Old show', 'ended', 1, 2,"
                     " '/p.png', 3)")
    await db.execute("INSERT INTO stream_keys VALUES ('s1', 'primary', 'k', 'h', 1)")
    with pytest.raises(aiosqlite.IntegrityError):  # what 0005 changes
        await db.execute("UPDATE streams SET state = 'reconnecting'")
    await db.close()

    store = await Store.open(path)
    try:
        stream = await store.streams.get("s1")
        assert stream is not None
        assert (stream.title, stream.state, stream.poster_url, stream.ended_at) == (
            "Old show", "ended", "/p.png", 3)
        assert (await store.keys.for_stream("s1"))["primary"].secret == "k"  # not cascaded
        assert await store.streams.set_state("s1", "reconnecting")
        assert (await store.streams.get("s1")).state == "reconnecting"  # type: ignore[union-attr]
        enforced = await store.db.execute_fetchall("PRAGMA foreign_keys")
        assert next(iter(enforced))[0] == 1  # back on after the rebuild
        with pytest.raises(aiosqlite.IntegrityError):
            await store.db.execute("UPDATE streams SET state = 'paused'")
        assert await store.streams.delete("s1")
        assert await store.keys.for_stream("s1") == {}
    finally:
        await store.close()


async def test_ended_at_marks_the_real_end_only(store: Store) -> None:
    user = await store.users.create("ann", "Ann", "creator", "x")
    stream = await store.streams.create(user.id, "Show")
    for state in ("live", "reconnecting", "live", "reconnecting"):
        await store.streams.set_state(stream.id, state)  # type: ignore[arg-type]
        assert (await store.streams.get(stream.id)).ended_at is None  # type: ignore[union-attr]
    await store.streams.set_state(stream.id, "ended")
    ended = await store.streams.get(stream.id)
    assert ended is not None and ended.ended_at is not None
    await store.streams.set_state(stream.id, "preview")  # a new broadcast begins
    assert (await store.streams.get(stream.id)).ended_at is None  # type: ignore[union-attr]


async def test_discovery_lists_reconnecting_streams_with_the_live_ones(store: Store) -> None:
    user = await store.users.create("ann", "Ann", "creator", "x")
    ids = {}
    for title, state in (("over", "ended"), ("on", "live"), ("waiting", "reconnecting"),
                         ("private", "preview")):
        ids[title] = (await store.streams.create(user.id, title)).id
        await store.streams.set_state(ids[title], state)  # type: ignore[arg-type]
    found = await store.streams.discover(ended_since=now_ms() - 60_000, limit=10)
    order = [s.id for s in found]
    assert set(order[:2]) == {ids["waiting"], ids["on"]} and order[2:] == [ids["over"]]
