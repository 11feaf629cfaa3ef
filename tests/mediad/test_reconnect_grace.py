"""The reconnect grace with the real registry and store, and a grace of a few tens of ms:
a live stream whose publisher leaves is ``reconnecting`` (never ``ended`` at once), a
publisher attaching takes it back to ``live``, the grace passing ends it (``endedAt``, the
reason in ``BroadcastEnded``), the creator can end it meanwhile, and a daemon that starts
with on-air streams in its store gives them the same grace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from mediad.publisher import Publisher
from mediad.reconnect_grace import GRACE_PASSED, ReconnectGrace
from mediad.store import Store
from mediad.stream_events import BroadcastEnded, StateChanged, StreamEvent, Subscription
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, make_stream

GRACE = 0.05
WAIT = 5.0  # seconds any expected event may take, far beyond the grace


@dataclass
class Env:
    store: Store
    registry: StreamRegistry
    grace: ReconnectGrace
    events: Subscription
    stream_id: str
    primary: str
    backup: str

    async def publish(self, key: str | None = None) -> Publisher:
        return await self.registry.start_publish(
            protocol="rtmp", key=key or self.primary, peer="a", disconnect=Kicks())

    async def until(self, wanted: type[StreamEvent], state: str | None = None) -> StreamEvent:
        """The next event of the type (and state) wanted; the others are passed over."""
        async with asyncio.timeout(WAIT):
            while True:
                event = await self.events.get()
                if isinstance(event, wanted) and (
                        state is None or getattr(event, "state", None) == state):
                    return event

    async def stored_state(self) -> tuple[str, int | None]:
        stream = await self.store.streams.get(self.stream_id)
        assert stream is not None
        return stream.state, stream.ended_at


async def open_env(store: Store, *, auto_live: bool = True) -> Env:
    stream_id, primary, backup = await make_stream(store)
    registry = StreamRegistry(store, auto_live=auto_live)
    grace = ReconnectGrace(registry, store, GRACE)
    await grace.start()
    return Env(store, registry, grace, registry.subscribe("test"), stream_id, primary, backup)


@pytest.fixture
async def env(store: Store) -> AsyncIterator[Env]:
    opened = await open_env(store)
    try:
        yield opened
    finally:
        await opened.grace.stop()
        await opened.registry.close()


async def test_a_dropped_publisher_leaves_the_stream_reconnecting_then_it_ends(env: Env) -> None:
    session = await env.publish()
    session.detach("connection reset")
    assert env.registry.get(env.stream_id).state == "reconnecting"  # type: ignore[union-attr]
    await env.until(StateChanged, "reconnecting")
    await asyncio.sleep(0)  # the service reads the departure
    assert env.grace.waiting == {env.stream_id}
    assert await env.stored_state() == ("reconnecting", None)  # no endedAt while waiting
    ended = await env.until(BroadcastEnded)
    assert ended == BroadcastEnded(env.stream_id, GRACE_PASSED)
    await env.registry.close()  # the state writes reach the store
    state, ended_at = await env.stored_state()
    assert state == "ended" and ended_at is not None
    assert env.grace.waiting == set()


async def test_a_publisher_back_within_the_grace_continues_the_broadcast(env: Env) -> None:
    first = await env.publish()
    first.detach("connection reset")
    await env.until(StateChanged, "reconnecting")
    await env.publish()
    assert (await env.until(StateChanged)) == StateChanged(env.stream_id, "live", "reconnecting")
    await asyncio.sleep(GRACE * 4)  # the grace would have passed by now
    live = env.registry.get(env.stream_id)
    assert live is not None and live.state == "live" and live.publishing
    assert env.events.get_nowait() is None and env.grace.waiting == set()


async def test_the_creator_ends_a_reconnecting_stream_at_once(env: Env) -> None:
    (await env.publish()).detach("connection reset")
    await env.until(StateChanged, "reconnecting")
    assert await env.registry.end(env.stream_id) == "ended"
    assert await env.until(BroadcastEnded) == BroadcastEnded(env.stream_id, "ended by the creator")
    await asyncio.sleep(GRACE * 4)
    assert env.events.get_nowait() is None  # the grace passing ends nothing twice
    assert env.grace.waiting == set()


async def test_the_grace_ends_nothing_that_has_a_publisher(env: Env) -> None:
    session = await env.publish()
    assert not await env.registry.end_unpublished(env.stream_id, GRACE_PASSED)
    session.detach("connection reset")
    await env.publish()  # back before the grace's end is decided
    assert not await env.registry.end_unpublished(env.stream_id, GRACE_PASSED)
    assert not await env.registry.end_unpublished("nosuchstream", GRACE_PASSED)
    assert env.registry.get(env.stream_id).state == "live"  # type: ignore[union-attr]


async def test_a_preview_that_loses_its_publisher_stays_in_preview(store: Store) -> None:
    env = await open_env(store, auto_live=False)
    try:
        (await env.publish()).detach("connection reset")
        await asyncio.sleep(GRACE * 4)
        assert env.registry.get(env.stream_id).state == "preview"  # type: ignore[union-attr]
        assert not any(isinstance(e, StateChanged | BroadcastEnded)
                       for e in iter(env.events.get_nowait, None))
    finally:
        await env.grace.stop()
        await env.registry.close()


async def test_streams_on_air_when_the_daemon_starts_get_their_grace(store: Store) -> None:
    stream_id, _, _ = await make_stream(store)
    first = await store.streams.get(stream_id)
    assert first is not None
    back_id = (await store.streams.create(first.owner_id, "Other show")).id
    back_key = (await store.keys.issue(back_id, "primary")).secret
    for stored in (stream_id, back_id):
        await store.streams.set_state(stored, "reconnecting")  # the daemon stopped meanwhile
    registry = StreamRegistry(store)
    events = registry.subscribe("test")
    grace = ReconnectGrace(registry, store, GRACE)
    await grace.start()
    try:
        assert grace.waiting == {stream_id, back_id}
        await registry.start_publish(protocol="rtmp", key=back_key, peer="a",
                                     disconnect=Kicks())  # its encoder reconnected
        async with asyncio.timeout(WAIT):
            while not isinstance(event := await events.get(), BroadcastEnded):
                pass
        assert event == BroadcastEnded(stream_id, GRACE_PASSED)
        await asyncio.sleep(GRACE * 4)
        back = registry.get(back_id)
        assert back is not None and back.state == "live"
    finally:
        await grace.stop()
        await registry.close()
    assert (await store.streams.get(stream_id)).state == "ended"  # type: ignore[union-attr]


async def test_a_stream_stored_live_after_a_crash_is_reconnecting_at_start(
        store: Store) -> None:
    """``kill -9`` leaves the row ``live``; at start nobody publishes, so it is
    ``reconnecting`` (in the store too) until its grace passes."""
    stream_id, _, _ = await make_stream(store)
    await store.streams.set_state(stream_id, "live")
    registry = StreamRegistry(store)
    grace = ReconnectGrace(registry, store, GRACE)
    await grace.start()
    try:
        stored = await store.streams.get(stream_id)
        assert stored is not None and stored.state == "reconnecting"
        assert grace.waiting == {stream_id}
        async with asyncio.timeout(WAIT):
            while (stored := await store.streams.get(stream_id)) and stored.state != "ended":  # noqa: ASYNC110 -- a store row has no event
                await asyncio.sleep(GRACE / 4)
    finally:
        await grace.stop()
        await registry.close()
