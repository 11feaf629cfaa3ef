"""Store timings: every round trip of the store's connection, and WAL checkpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediad.metrics.registry import EVENTS
from mediad.store import Store
from mediad.store.checkpoints import Checkpointer


def _count(name: str) -> float:
    return EVENTS.get_sample_value(f"{name}_count") or 0.0


def _sum(name: str) -> float:
    return EVENTS.get_sample_value(f"{name}_sum") or 0.0


async def test_every_statement_of_the_store_is_timed(store: Store) -> None:
    before = _count("mediad_store_query_seconds")
    user = await store.users.create("ada", "Ada", "creator", "x")  # one statement
    stream = await store.streams.create(user.id, "Ada live")
    async with store.transaction():  # BEGIN, the statement, COMMIT
        await store.streams.update(stream.id, title="Ada, live")
    assert await store.streams.get(stream.id) is not None
    assert _count("mediad_store_query_seconds") - before >= 6


async def test_a_querys_time_includes_its_wait_behind_the_one_before(store: Store) -> None:
    """The loop's view: a query queued behind a slow one waited for it."""
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
            " SELECT count(*) FROM n")
    first = asyncio.ensure_future(store.db.execute_fetchall(slow))
    await asyncio.sleep(0)  # queued first
    before = _sum("mediad_store_query_seconds")
    started = asyncio.get_running_loop().time()
    await store.db.execute_fetchall("SELECT 1")
    waited = asyncio.get_running_loop().time() - started
    await first
    # Both observed: the slow one (about ``waited``), and the quick one with its wait
    # (about ``waited`` again; without its wait it would be next to nothing).
    assert waited > 0.005
    assert _sum("mediad_store_query_seconds") - before >= 1.5 * waited


async def test_checkpoints_are_timed(tmp_path: Path) -> None:
    opened = await Store.open(tmp_path / "mediad.sqlite3")
    checkpointer = Checkpointer(tmp_path / "mediad.sqlite3", interval_sec=3600)
    try:
        await checkpointer.start(opened.db)
        await opened.users.create("ada", "Ada", "creator", "x")
        before = _count("mediad_store_checkpoint_seconds")
        await checkpointer.checkpoint()
        assert _count("mediad_store_checkpoint_seconds") == before + 1
    finally:
        await checkpointer.stop()
        await opened.close()
