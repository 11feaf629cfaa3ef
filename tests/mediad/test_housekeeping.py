"""Pruning what the store keeps only for a while: old events (each stream's newest stays),
health samples and player reports past their retention, spent and expired refresh tokens."""

from __future__ import annotations

import asyncio

from mediad.config import ApiConfig, Config, RealtimeConfig
from mediad.housekeeping import DAY_MS, HOUR_MS, Housekeeping, Retention
from mediad.store import Store

NOW = 1_800_000_000_000
RETENTION = Retention(events_ms=24 * HOUR_MS, health_ms=30 * DAY_MS,
                      player_metrics_ms=7 * DAY_MS)


async def _refresh_tokens(store: Store) -> int:
    async with store.db.execute("SELECT COUNT(*) FROM refresh_tokens") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def test_retention_comes_from_the_config() -> None:
    config = Config(realtime=RealtimeConfig(event_retention_hours=6, health_retention_days=2),
                    api=ApiConfig(metrics_retention_days=3))
    assert Retention.from_config(config) == Retention(6 * HOUR_MS, 2 * DAY_MS, 3 * DAY_MS)


async def test_prune_keeps_what_is_within_its_retention(store: Store) -> None:
    user = await store.users.create("carla", "Carla", "creator", "x")
    stream = (await store.streams.create(user.id, "Carla live")).id
    for seq, at in ((1, NOW - 25 * HOUR_MS), (2, NOW - 25 * HOUR_MS), (3, NOW - HOUR_MS)):
        await store.events.append(stream, seq, "{}", at)
    quiet = (await store.streams.create(user.id, "quiet")).id
    await store.events.append(quiet, 1, "{}", NOW - 30 * DAY_MS)  # its newest: kept
    for at in (NOW - 31 * DAY_MS, NOW - 29 * DAY_MS):
        await store.health.add(stream, at, 1000.0, 30.0, 0.0, 1)
    for ttff, at in ((100, NOW - 8 * DAY_MS), (200, NOW - 6 * DAY_MS)):
        await store.player_metrics.add(stream, at, ttff, None, "720p")
    live = await store.refresh_tokens.issue(user.id, NOW, HOUR_MS)
    await store.refresh_tokens.issue(user.id, NOW - 2 * HOUR_MS, HOUR_MS)  # expired
    spent = await store.refresh_tokens.issue(user.id, NOW - 3 * DAY_MS, 30 * DAY_MS)
    assert await store.refresh_tokens.consume(spent, NOW - 2 * DAY_MS) == user.id

    await Housekeeping(store, RETENTION, wall_ms=lambda: NOW).prune()

    assert [seq for seq, _ in await store.events.since(stream, 0, 10)] == [3]
    assert [seq for seq, _ in await store.events.since(quiet, 0, 10)] == [1]
    assert [at for at, *_ in await store.health.since(stream, 0)] == [NOW - 29 * DAY_MS]
    assert await store.player_metrics.values(stream, "ttff_ms", 0) == [200]
    assert await _refresh_tokens(store) == 1
    assert await store.refresh_tokens.consume(live, NOW) == user.id


async def test_the_service_prunes_when_it_starts(store: Store) -> None:
    user = await store.users.create("carla", "Carla", "creator", "x")
    stream = (await store.streams.create(user.id, "Carla live")).id
    await store.player_metrics.add(stream, NOW - 8 * DAY_MS, 100, None, "720p")
    housekeeping = Housekeeping(store, RETENTION, wall_ms=lambda: NOW)
    await housekeeping.start()
    try:
        async with asyncio.timeout(2.0):  # at start, not after PRUNE_EVERY_SEC
            while True:
                if not await store.player_metrics.values(stream, "ttff_ms", 0):
                    break
                await asyncio.sleep(0.01)
    finally:
        await housekeeping.stop()
