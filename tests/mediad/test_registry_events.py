"""The registry's typed change events: what each way of a publisher coming and going tells a
subscriber, in order; late subscribers start from the present; a slow store write for one
stream never holds up a publish on another."""

from __future__ import annotations

import asyncio

import pytest

from ingest.media import TrackInfo
from ingest.sink import TrackRefused
from mediad.store import Store
from mediad.stream_events import (
    BroadcastEnded,
    Departure,
    PublisherAttached,
    PublisherDetached,
    PublisherInfo,
    StateChanged,
    StreamEvent,
    StreamEvents,
    StreamRemoved,
    Subscription,
)
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, make_stream

VIDEO = TrackInfo(0, "video", "h264", 1000, width=1280, height=720)


def drain(subscription: Subscription) -> list[StreamEvent]:
    events = []
    while (event := subscription.get_nowait()) is not None:
        events.append(event)
    return events


async def test_a_publish_and_its_loss(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    events = registry.subscribe("test")
    session = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                           disconnect=Kicks())
    session.detach("connection reset")
    a = PublisherInfo("rtmp", "primary", "a")
    assert drain(events) == [
        PublisherAttached(stream_id, a),
        StateChanged(stream_id, "live", "preview"),
        PublisherDetached(stream_id, a, Departure("disconnected", "connection reset")),
        StateChanged(stream_id, "reconnecting", "live"),
    ]
    session.detach("closed twice")  # an ingest that reports its loss again changes nothing
    assert drain(events) == []
    await registry.close()


async def test_a_takeover_is_a_departure_and_an_attach(store: Store) -> None:
    stream_id, primary, backup = await make_stream(store)
    registry = StreamRegistry(store)
    first = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                         disconnect=Kicks())
    events = registry.subscribe("late")
    a, b = PublisherInfo("rtmp", "primary", "a"), PublisherInfo("srt", "backup", "b")
    assert drain(events) == [PublisherAttached(stream_id, a)]  # the present, replayed
    await registry.start_publish(protocol="srt", key=backup, peer="b", disconnect=Kicks())
    assert drain(events) == []  # the backup waits as the standby: nothing changed yet
    first.detach("connection reset")
    assert drain(events) == [
        PublisherDetached(stream_id, a, Departure("disconnected", "connection reset")),
        PublisherAttached(stream_id, b, replaced=a),
    ]


async def test_rotation_end_and_delete(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    kicked = Kicks()
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=kicked)
    events = registry.subscribe("test")
    drain(events)
    assert registry.disconnect_key(stream_id, "primary", "key rotated")
    a = PublisherInfo("rtmp", "primary", "a")
    assert drain(events) == [
        PublisherDetached(stream_id, a, Departure("key_rotated", "key rotated")),
        StateChanged(stream_id, "reconnecting", "live")]
    # The creator ends a stream whose publisher is gone: the end is final now.
    assert await registry.end(stream_id) == "ended"
    assert drain(events) == [StateChanged(stream_id, "ended", "reconnecting"),
                             BroadcastEnded(stream_id, "ended by the creator")]
    assert await registry.end(stream_id) == "ended"  # ending it again is still news
    assert drain(events) == [BroadcastEnded(stream_id, "ended by the creator")]
    await registry.forget(stream_id)
    assert drain(events) == [BroadcastEnded(stream_id, "stream deleted"),
                             StreamRemoved(stream_id)]
    assert registry.get(stream_id) is None and kicked.reasons == ["key rotated"]


async def test_the_creator_ending_a_live_stream(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    kicked = Kicks()
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=kicked)
    events = registry.subscribe("test")
    drain(events)
    await registry.end(stream_id)
    a = PublisherInfo("rtmp", "primary", "a")
    assert drain(events) == [
        PublisherDetached(stream_id, a, Departure("ended", "ended by the creator")),
        StateChanged(stream_id, "ended", "live"),
        BroadcastEnded(stream_id, "ended by the creator")]
    assert kicked.reasons == ["ended by the creator"]
    stored = await store.streams.get(stream_id)
    assert stored is not None and stored.state == "ended"  # written before end() returned


async def test_a_slow_store_write_holds_up_only_its_own_stream(store: Store) -> None:
    slow_id, slow_key, _ = await make_stream(store)
    user = await store.users.create("eve", "Eve", "creator", "x")
    other = await store.streams.create(user.id, "Other")
    other_key = (await store.keys.issue(other.id, "primary")).secret
    release = asyncio.Event()
    set_state = store.streams.set_state

    async def stalling(stream_id: str, state: str) -> None:
        if stream_id == slow_id:
            await release.wait()
        await set_state(stream_id, state)  # type: ignore[arg-type]

    store.streams.set_state = stalling  # type: ignore[method-assign]
    registry = StreamRegistry(store)
    slow = asyncio.ensure_future(registry.start_publish(
        protocol="rtmp", key=slow_key, peer="a", disconnect=Kicks()))
    await asyncio.sleep(0.05)
    assert not slow.done()
    async with asyncio.timeout(2):
        await registry.start_publish(protocol="rtmp", key=other_key, peer="b",
                                     disconnect=Kicks())
    release.set()
    await slow
    await registry.close()


async def test_a_refused_track_reaches_no_reader(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store, refuse_track=lambda t: f"no {t.codec} here"
                              if t.codec == "vp9" else None)
    session = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                           disconnect=Kicks())
    live = registry.get(stream_id)
    assert live is not None
    reader = live.add_reader("test")
    with pytest.raises(TrackRefused, match="no vp9 here"):
        session.announce_track(TrackInfo(0, "video", "vp9", 1000, width=640, height=360))
    assert reader.get_nowait() is None and live.tracks == {}
    session.announce_track(VIDEO)
    assert live.tracks == {0: VIDEO}


async def test_a_subscriber_that_stops_reading_loses_the_oldest_events() -> None:
    feed = StreamEvents()
    subscription = feed.subscribe("stuck", capacity=2)
    for n in range(5):
        feed.publish(StreamRemoved(str(n)))
    assert subscription.lost == 3
    assert drain(subscription) == [StreamRemoved("3"), StreamRemoved("4")]
    subscription.close()
    feed.publish(StreamRemoved("late"))
    assert [event async for event in subscription] == []
