from __future__ import annotations

import pytest

from ingest.media import Frame, TrackInfo
from ingest.sink import PublishRefused
from mediad.fanout import Discontinuity, StreamEnd, TrackChange
from mediad.store import Store
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, make_stream

VIDEO = TrackInfo(0, "video", "h264", 1000, width=1280, height=720)


async def test_wrong_key_refused(store: Store) -> None:
    await make_stream(store)
    registry = StreamRegistry(store)
    with pytest.raises(PublishRefused) as info:
        await registry.start_publish(protocol="rtmp", key="live_nope", peer="p",
                                     disconnect=Kicks())
    assert info.value.reason == "bad_key"


async def test_publish_goes_live_and_loss_waits_to_reconnect(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    session = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                           disconnect=Kicks())
    live = registry.get(stream_id)
    assert live is not None and live.state == "live" and live.publishing
    reader = live.add_reader("test")
    session.announce_track(VIDEO)
    session.push_frame(Frame(VIDEO, 0, 0, True, b"x"))
    assert isinstance(reader.get_nowait(), TrackChange)
    assert isinstance(reader.get_nowait(), Frame)
    session.detach("connection reset")
    assert live.state == "reconnecting" and not live.publishing  # not ended: it may come back
    end = reader.get_nowait()
    assert isinstance(end, StreamEnd) and end.reason == "connection reset" and not end.final
    await registry.close()
    stored = await store.streams.get(stream_id)
    assert stored is not None and stored.state == "reconnecting" and stored.ended_at is None


async def test_same_key_twice_is_busy(store: Store) -> None:
    _, primary, backup = await make_stream(store)
    registry = StreamRegistry(store)
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=Kicks())
    with pytest.raises(PublishRefused) as info:
        await registry.start_publish(protocol="srt", key=primary, peer="b", disconnect=Kicks())
    assert info.value.reason == "busy"
    await registry.start_publish(protocol="rtmp", key=backup, peer="c", disconnect=Kicks())
    with pytest.raises(PublishRefused):
        await registry.start_publish(protocol="rtmp", key=backup, peer="d", disconnect=Kicks())


async def test_backup_takes_over_without_ending(store: Store) -> None:
    stream_id, primary, backup = await make_stream(store)
    registry = StreamRegistry(store)
    kicked = Kicks()
    first = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                         disconnect=kicked)
    live = registry.get(stream_id)
    assert live is not None
    reader = live.add_reader("test")
    second = await registry.start_publish(protocol="rtmp", key=backup, peer="b",
                                          disconnect=Kicks())
    # A healthy primary is not kicked: the backup waits as the standby (issue 15).
    assert kicked.reasons == [] and live.publisher is first and live.standby is second
    assert reader.get_nowait() is None
    first.detach("connection reset")
    assert live.state == "live" and live.publisher is second
    assert isinstance(reader.get_nowait(), Discontinuity)
    assert reader.get_nowait() is None
    first.detach("closed twice")  # a publisher that left already changes nothing
    assert live.publisher is second and kicked.reasons == []


async def test_auto_live_off_waits_in_preview(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store, auto_live=False)
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=Kicks())
    live = registry.get(stream_id)
    assert live is not None and live.state == "preview"
    assert await registry.go_live(stream_id) == "live"


async def test_rotated_key_publisher_is_dropped(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    kicked = Kicks()
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=kicked)
    assert not registry.disconnect_key(stream_id, "backup", "rotated")
    assert registry.disconnect_key(stream_id, "primary", "key rotated")
    assert kicked.reasons == ["key rotated"]
    live = registry.get(stream_id)
    assert live is not None and not live.publishing and live.state == "reconnecting"
    await registry.close()


async def test_end_kicks_publisher(store: Store) -> None:
    stream_id, primary, _ = await make_stream(store)
    registry = StreamRegistry(store)
    kicked = Kicks()
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=kicked)
    assert await registry.end(stream_id) == "ended"
    assert kicked.reasons == ["ended by the creator"]
