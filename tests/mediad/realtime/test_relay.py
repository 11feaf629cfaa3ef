"""What the bus brings goes to the sockets, to the one service that claimed its kind, or
to both for a kind that is watched."""

from __future__ import annotations

import pytest

from mediad.realtime.bus import InProcessBus
from mediad.realtime.hub import Hub
from mediad.realtime.messages import Message
from mediad.realtime.relay import Relay
from mediad.store import Store
from tests.mediad.realtime.hub_testing import socket_subscriber


async def test_claimed_kinds_stay_off_the_sockets_and_watched_ones_reach_both(
        store: Store) -> None:
    bus, hub = InProcessBus(), Hub(store, 0, 1000)
    relay = Relay(bus, hub)
    claimed: list[tuple[str, Message]] = []
    watched: list[tuple[str, Message]] = []
    relay.claim("viewers.report", lambda stream, message: claimed.append((stream, message)))
    relay.watch("health", lambda stream, message: watched.append((stream, message)))
    await relay.start()
    async with socket_subscriber() as (subscriber, client):
        await hub.join("s", subscriber)
        subscriber.release(0)
        report = {"type": "viewers.report", "instance": "other", "count": 3}
        await bus.publish("s", report)
        await client.nothing()
        assert claimed == [("s", report)]
        health = {"type": "health", "fps": 30.0}
        await bus.publish("s", health)
        assert await client.frame() == [health] and watched == [("s", health)]
        await bus.publish("s", {"type": "viewers", "count": 3})
        assert await client.frame() == [{"type": "viewers", "count": 3}]
    await relay.stop()
    await bus.publish("s", report)  # stopped: the bus delivers nowhere
    assert len(claimed) == 1
    hub.close()


async def test_a_kind_is_claimed_once(store: Store) -> None:
    relay = Relay(InProcessBus(), Hub(store, 0, 1000))
    relay.claim("viewers.report", lambda stream, message: None)
    with pytest.raises(ValueError, match="claimed already"):
        relay.claim("viewers.report", lambda stream, message: None)
