"""Joining and leaving a stream's channel in the hub: what a joiner is owed, who gets a
message, and when a channel opens and closes."""

from __future__ import annotations

import asyncio
import json

from mediad.realtime.hub import Hub
from mediad.store import Store
from tests.mediad.realtime.hub_testing import socket_subscriber


async def _stream(store: Store) -> str:
    owner = await store.users.create("carla", "Carla", "creator", "x")
    return (await store.streams.create(owner.id, "Carla live")).id


def _chat(seq: int) -> dict[str, object]:
    return {"type": "chat.message", "id": f"m{seq}", "text": f"#{seq}", "seq": seq}


async def _logged(store: Store, stream_id: str, *seqs: int) -> None:
    for seq in seqs:
        await store.events.append(stream_id, seq, json.dumps(_chat(seq)), 0)


async def test_join_returns_the_last_seq_and_holds_live_messages_until_release(
        store: Store) -> None:
    stream_id = await _stream(store)
    await _logged(store, stream_id, 1, 2, 3)
    hub = Hub(store, 0, 1000)
    async with socket_subscriber() as (subscriber, client):
        assert await hub.join(stream_id, subscriber) == 3
        assert hub.last_seq(stream_id) == 3
        hub.deliver(stream_id, _chat(4))
        await client.nothing()  # held: the joiner's history is not sent yet
        subscriber.release(3)
        assert await client.seqs() == [4]
        hub.deliver(stream_id, _chat(5))
        assert await client.seqs() == [5]
    hub.close()


async def test_joiners_at_the_same_moment_share_one_channel(store: Store) -> None:
    stream_id = await _stream(store)
    hub = Hub(store, 0, 1000)
    async with socket_subscriber() as (first, first_client), \
            socket_subscriber() as (second, second_client):
        assert await asyncio.gather(hub.join(stream_id, first),
                                    hub.join(stream_id, second)) == [0, 0]
        assert hub.subscriber_count() == 2
        first.release(0)
        second.release(0)
        hub.deliver(stream_id, _chat(1))
        assert await first_client.seqs() == [1]
        assert await second_client.seqs() == [1]
    hub.close()


async def test_one_who_left_hears_nothing_and_the_last_to_leave_closes_the_channel(
        store: Store) -> None:
    stream_id = await _stream(store)
    hub = Hub(store, 0, 1000)
    async with socket_subscriber() as (staying, staying_client), \
            socket_subscriber() as (leaving, leaving_client):
        for subscriber in (staying, leaving):
            await hub.join(stream_id, subscriber)
            subscriber.release(0)
        hub.leave(stream_id, leaving)
        assert hub.subscriber_count() == 1
        hub.deliver(stream_id, _chat(1))
        assert await staying_client.seqs() == [1]
        await leaving_client.nothing()
        hub.leave(stream_id, staying)
        assert hub.subscriber_count() == 0 and hub.last_seq(stream_id) is None
        hub.leave(stream_id, staying)  # twice, or a stream without a channel: nothing
        hub.leave("no-such-stream", staying)
        # A channel opened again starts from the log, not from what the old one delivered.
        await _logged(store, stream_id, 1, 2)
        assert await hub.join(stream_id, staying) == 2
    hub.close()
