"""Each publisher's health on the health channel: the active one and its hot standby, their
rates since the previous sample, how long since their last media, whether the standby is
ready; no peer address (viewers get this message too)."""

from __future__ import annotations

from ingest.media import Frame, TrackInfo
from mediad.realtime.publisher_health import PublisherHealth
from mediad.store import Store
from mediad.streams import StreamRegistry
from tests.mediad.realtime.conftest import Env
from tests.mediad.registry_testing import Kicks, ManualClock, make_stream

VIDEO = TrackInfo(0, "video", "h264", 1000, width=640, height=360)


async def test_entries_for_the_active_publisher_and_the_standby(store: Store) -> None:
    stream_id, primary, backup = await make_stream(store)
    clock = ManualClock()
    registry = StreamRegistry(store, clock=clock)
    a = await registry.start_publish(protocol="rtmp", key=primary, peer="10.0.0.1:5000",
                                     disconnect=Kicks())
    b = await registry.start_publish(protocol="srt", key=backup, peer="10.0.0.2:6000",
                                     disconnect=Kicks())
    live = registry.get(stream_id)
    assert live is not None
    health = PublisherHealth()
    first = health.entries(live)
    assert [(e["role"], e["key"], e["protocol"]) for e in first] == [
        ("active", "primary", "rtmp"), ("standby", "backup", "srt")]
    assert [e["bitrateKbps"] for e in first] == [0.0, 0.0]  # nothing to compare with yet
    assert first[1]["ready"] is False  # no keyframe yet
    for n in range(30):
        a.push_frame(Frame(VIDEO, n * 33, n * 33, n == 0, b"x"))
    a.count_bytes(250_000)
    b.announce_track(VIDEO)
    b.push_frame(Frame(VIDEO, 0, 0, True, b"x"))
    b.count_bytes(1_000)
    clock.advance(2)
    active, standby = health.entries(live)
    assert active["bitrateKbps"] == 1000.0 and active["fps"] == 15.0
    assert active["frames"] == 30 and active["sinceMediaSec"] == 2.0
    assert standby["bitrateKbps"] == 4.0 and standby["ready"] is True
    assert all("10.0.0" not in str(entry) for entry in (active, standby))
    await registry.close()


async def test_the_health_message_carries_both_publishers(env: Env) -> None:
    primary = await env.store.keys.issue(env.stream.id, "primary")
    backup = await env.store.keys.issue(env.stream.id, "backup")
    a = await env.registry.start_publish(protocol="rtmp", key=primary.secret, peer="t",
                                         disconnect=Kicks())
    b = await env.registry.start_publish(protocol="rtmp", key=backup.secret, peer="u",
                                         disconnect=Kicks())
    socket = await env.connect()
    await socket.next("chat.history")
    await env.health.sample()
    await env.health.sample()
    message = await socket.next("health")
    assert [(p["role"], p["key"]) for p in message["publishers"]] == [
        ("active", "primary"), ("standby", "backup")]
    b.detach("done")
    a.detach("done")
