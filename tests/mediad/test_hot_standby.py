"""Hot standby in the registry: a stream's primary-key and backup-key publishers, one
feeding it and one held warm; takeovers on a disconnect, a stall and a returning primary;
stale connections replaced; publishers that send no media dropped. A takeover never takes
the stream out of ``live``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from ingest.media import Frame, TrackInfo
from ingest.sink import Dropped, PublishRefused, TrackRefused
from mediad.failover import Failover
from mediad.fanout import Discontinuity, Reader, ReaderItem, StreamEnd, TrackChange
from mediad.live_stream import LiveStream
from mediad.publisher import Publisher
from mediad.store import Store
from mediad.stream_events import (
    Departure,
    PublisherAttached,
    PublisherDetached,
    StateChanged,
    StreamEvent,
    Subscription,
)
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, ManualClock, make_stream

HD = TrackInfo(0, "video", "h264", 1000, width=1280, height=720)
SD = TrackInfo(0, "video", "h264", 1000, width=640, height=360)
AAC = TrackInfo(1, "audio", "aac", 1000, sample_rate=48000, channels=2)


def frame(track: TrackInfo, ms: int, key: bool = False, arrival: float = 0.0) -> Frame:
    return Frame(track, ms, ms, key, b"k" if key else b"p", arrival)


def drain(source: Reader | Subscription) -> list[ReaderItem] | list[StreamEvent]:
    items = []
    while (item := source.get_nowait()) is not None:
        items.append(item)
    return items


@dataclass
class Show:
    """A stream with a reader and a subscriber, on a clock the test moves."""

    registry: StreamRegistry
    live: LiveStream
    reader: Reader
    events: Subscription
    clock: ManualClock
    primary: str
    backup: str

    async def publish(self, kind: str, peer: str, kicks: Kicks | None = None) -> Publisher:
        key = self.primary if kind == "primary" else self.backup
        return await self.registry.start_publish(protocol="rtmp", key=key, peer=peer,
                                                 disconnect=kicks or Kicks())

    def states(self) -> list[StreamEvent]:
        return [e for e in drain(self.events) if isinstance(e, StateChanged)]


async def show(store: Store, failover: Failover | None = None) -> Show:
    stream_id, primary, backup = await make_stream(store)
    clock = ManualClock()
    registry = StreamRegistry(store, clock=clock, failover=failover)
    live = await registry.live_stream(stream_id)
    assert live is not None
    return Show(registry, live, live.add_reader("test", 10_000), registry.subscribe("test"),
                clock, primary, backup)


async def live_show(store: Store, failover: Failover | None = None
                    ) -> tuple[Show, Publisher, Publisher, Kicks, Kicks]:
    """The primary feeding HD, the backup waiting with SD; both have sent a GOP."""
    s = await show(store, failover)
    a_kicks, b_kicks = Kicks(), Kicks()
    a = await s.publish("primary", "a", a_kicks)
    a.announce_track(HD)
    a.push_frame(frame(HD, 0, key=True))
    b = await s.publish("backup", "b", b_kicks)
    b.announce_track(SD)
    b.push_frame(frame(SD, 0, key=True))
    b.push_frame(frame(SD, 33))
    drain(s.reader)
    drain(s.events)
    return s, a, b, a_kicks, b_kicks


async def test_the_backup_waits_as_standby_while_the_primary_is_healthy(store: Store) -> None:
    s, a, b, a_kicks, b_kicks = await live_show(store)
    assert s.live.publisher is a and s.live.standby is b
    assert (a.role, b.role) == ("active", "standby")
    b.push_frame(frame(SD, 66))
    a.push_frame(frame(HD, 33))
    items = drain(s.reader)
    assert items == [frame(HD, 33)]  # nothing of the standby reaches a reader
    assert s.live.tracks == {0: HD}
    assert a_kicks.dropped == [] and b_kicks.dropped == []
    assert s.live.state == "live"


async def test_a_disconnect_hands_over_to_the_standby_with_its_warm_gop(store: Store) -> None:
    s, a, b, a_kicks, _ = await live_show(store)
    b.announce_track(AAC)
    warm = [frame(SD, 100, key=True, arrival=7.5), frame(AAC, 101, arrival=7.51),
            frame(SD, 133, arrival=7.53)]
    for f in warm:
        b.push_frame(f)
    a.detach("connection reset")
    assert s.live.publisher is b and s.live.standby is None and a.role is None
    items = drain(s.reader)
    assert isinstance(items[0], Discontinuity) and "backup" in items[0].reason
    assert items[1:3] == [TrackChange(SD), TrackChange(AAC)]
    replayed = items[3:]
    assert replayed == warm  # from the keyframe, nothing older
    assert [f.arrival for f in replayed if isinstance(f, Frame)] == [7.5, 7.51, 7.53]
    b.push_frame(frame(SD, 166))
    assert drain(s.reader) == [frame(SD, 166)]
    a_info, b_info = a.info, b.info
    assert drain(s.events) == [
        PublisherDetached(s.live.stream_id, a_info, Departure("disconnected",
                                                              "connection reset")),
        PublisherAttached(s.live.stream_id, b_info, replaced=a_info)]
    assert s.live.state == "live" and a_kicks.dropped == []


async def test_a_standby_that_changes_its_tracks_waits_for_their_keyframe(
        store: Store) -> None:
    s, a, b, _, _ = await live_show(store)
    b.announce_track(HD)  # new parameters: the warm frames of the old ones are useless
    b.push_frame(frame(HD, 66))
    a.detach("connection reset")
    items = drain(s.reader)
    assert items[1:] == [TrackChange(HD)]  # no stale warm frames; the next keyframe starts
    b.push_frame(frame(HD, 100, key=True))
    assert drain(s.reader) == [frame(HD, 100, key=True)]


async def test_a_stalled_primary_is_demoted_not_kicked(store: Store) -> None:
    s, a, b, a_kicks, _ = await live_show(store)
    s.clock.advance(0.6)
    b.push_frame(frame(SD, 600))  # the backup keeps sending; the primary went quiet
    await s.registry.check_publishers()
    assert s.live.publisher is a  # 0.6 s is not a stall
    s.clock.advance(0.6)
    b.push_frame(frame(SD, 1200))
    await s.registry.check_publishers()
    assert s.live.publisher is b and s.live.standby is a and a.role == "standby"
    assert a_kicks.dropped == []
    items = drain(s.reader)
    assert isinstance(items[0], Discontinuity) and "stalled" in items[0].reason
    assert items[1] == TrackChange(SD)
    assert [f.dts for f in items[2:] if isinstance(f, Frame)] == [0, 33, 600, 1200]
    detached = drain(s.events)[0]
    assert isinstance(detached, PublisherDetached) and detached.departure.kind == "demoted"
    assert s.live.state == "live"


async def test_a_standby_keyframe_during_a_stall_takes_over_at_once(store: Store) -> None:
    s, a, b, _, _ = await live_show(store)
    s.clock.advance(1.5)
    b.push_frame(frame(SD, 1500))
    assert s.live.publisher is a  # not a keyframe: nothing to start viewers on
    b.push_frame(frame(SD, 2000, key=True))
    assert s.live.publisher is b and s.live.standby is a


async def test_the_primary_takes_back_over_at_its_first_keyframe(store: Store) -> None:
    s = await show(store)
    b_kicks = Kicks()
    b = await s.publish("backup", "b", b_kicks)  # the primary is not there: the backup feeds
    b.announce_track(SD)
    b.push_frame(frame(SD, 0, key=True))
    a = await s.publish("primary", "a")
    assert s.live.publisher is b and a.role == "standby"
    a.announce_track(HD)
    a.push_frame(frame(HD, 5000))  # joined mid-GOP: not ready yet
    assert s.live.publisher is b
    a.push_frame(frame(HD, 5033, key=True))
    assert s.live.publisher is a and s.live.standby is b and b.role == "standby"
    assert b_kicks.dropped == []
    items = drain(s.reader)
    assert items[-3:] == [Discontinuity("the primary key took over (the primary key is back)"),
                          TrackChange(HD), frame(HD, 5033, key=True)]
    assert s.states() == [StateChanged(s.live.stream_id, "live", "preview")]


async def test_without_prefer_primary_the_primary_waits_for_the_backup_to_fail(
        store: Store) -> None:
    s = await show(store, Failover(prefer_primary=False))
    b = await s.publish("backup", "b")
    b.announce_track(SD)
    b.push_frame(frame(SD, 0, key=True))
    a = await s.publish("primary", "a")
    a.announce_track(HD)
    a.push_frame(frame(HD, 0, key=True))
    a.push_frame(frame(HD, 33))
    assert s.live.publisher is b and s.live.standby is a
    b.detach("closed by peer")
    assert s.live.publisher is a and s.live.standby is None
    assert s.live.state == "live"


async def test_a_stale_connection_on_the_same_key_is_replaced(store: Store) -> None:
    s = await show(store)
    old_kicks = Kicks()
    old = await s.publish("primary", "obs:1", old_kicks)
    old.announce_track(HD)
    old.push_frame(frame(HD, 0, key=True))
    drain(s.events)
    s.clock.advance(0.5)
    with pytest.raises(PublishRefused) as busy:  # still sending a moment ago: busy
        await s.publish("primary", "obs:2")
    assert busy.value.reason == "busy"
    s.clock.advance(0.7)  # half-open: no media for 1.2 s, and OBS reconnects
    new = await s.publish("primary", "obs:2")
    assert s.live.publisher is new and old.role is None
    [dropped] = old_kicks.dropped
    assert dropped.refused and "replaced by a new connection" in dropped.description
    events = drain(s.events)
    assert events[-1] == PublisherAttached(s.live.stream_id, new.info, replaced=old.info)
    assert not [e for e in events if isinstance(e, StateChanged)]
    old.detach("closed by server")  # the old connection's own close changes nothing
    assert s.live.publisher is new and s.live.state == "live"


async def test_a_stale_standby_on_the_same_key_is_replaced(store: Store) -> None:
    s, a, b, _, b_kicks = await live_show(store)
    s.clock.advance(1.5)
    a.push_frame(frame(HD, 1500))
    b2 = await s.publish("backup", "b2")
    assert s.live.standby is b2 and b.role is None and s.live.publisher is a
    assert b_kicks.dropped[0].refused


async def test_busy_otherwise(store: Store) -> None:
    s, a, b, _, _ = await live_show(store)
    for kind in ("primary", "backup"):
        with pytest.raises(PublishRefused) as info:
            await s.publish(kind, "intruder")
        assert info.value.reason == "busy"
    assert s.live.publishers == [a, b]


async def test_silent_publishers_are_dropped_like_a_disconnect(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "mediad.streams")
    s, a, b, a_kicks, b_kicks = await live_show(store)
    for _ in range(9):
        s.clock.advance(1)
        a.push_frame(frame(HD, 0))
        a.count_bytes(100)  # bytes
        b.count_bytes(100)  # keepalives and acks are no media
    s.clock.advance(1)
    await s.registry.check_publishers()
    assert b.role is None and s.live.standby is None and s.live.publisher is a
    assert b_kicks.dropped == [Dropped("no media for 10 s")]
    assert drain(s.reader) == [frame(HD, 0)] * 9  # a standby leaves no trace for readers
    s.clock.advance(8.9)  # the primary's last frame came 9.9 s ago
    await s.registry.check_publishers()
    assert s.live.publisher is a
    s.clock.advance(0.2)
    await s.registry.check_publishers()
    await s.registry.check_publishers()  # once dropped, dropped once
    assert s.live.publisher is None
    assert a_kicks.dropped == [Dropped("no media for 10 s")]
    [end] = drain(s.reader)
    assert end == StreamEnd("no media for 10 s", final=False)  # the reconnect grace path
    detached = [e for e in drain(s.events) if isinstance(e, PublisherDetached)]
    assert detached == [PublisherDetached(s.live.stream_id, a.info,
                                          Departure("disconnected", "no media for 10 s"))]
    warnings = [r for r in caplog.records if r.getMessage() == "publisher sent no media"]
    assert [r.fields["role"] for r in warnings] == ["standby", "active"]  # type: ignore[attr-defined]


async def test_a_publisher_that_never_sends_media_times_out_from_its_attach(
        store: Store) -> None:
    s = await show(store, Failover(media_timeout_sec=3))
    kicks = Kicks()
    await s.publish("primary", "a", kicks)
    s.clock.advance(3)
    await s.registry.check_publishers()
    assert not s.live.publishing and kicks.reasons == ["no media for 3 s"]


async def test_ending_rotating_and_shutting_down_with_a_standby(store: Store) -> None:
    s, a, _, a_kicks, b_kicks = await live_show(store)
    # Rotating the standby's key drops only the standby.
    assert s.registry.disconnect_key(s.live.stream_id, "backup", "the backup key was rotated")
    assert s.live.publisher is a and s.live.standby is None
    assert b_kicks.dropped == [Dropped("the backup key was rotated", refused=True)]
    # Rotating the active one's key hands over to the standby.
    b2 = await s.publish("backup", "b2")
    assert s.registry.disconnect_key(s.live.stream_id, "primary", "the primary key was rotated")
    assert s.live.publisher is b2 and s.live.state == "live"
    assert a_kicks.dropped == [Dropped("the primary key was rotated", refused=True)]
    # The creator's end lets both go, and nothing takes over.
    a2_kicks = Kicks()
    await s.publish("primary", "a2", a2_kicks)
    drain(s.events)
    assert await s.registry.end(s.live.stream_id) == "ended"
    assert a2_kicks.dropped == [Dropped("ended by the creator")]
    assert not s.live.publishers
    assert not [e for e in drain(s.events) if isinstance(e, PublisherAttached)]


async def test_shutdown_drops_the_standby_first(store: Store) -> None:
    s, _, _, a_kicks, b_kicks = await live_show(store)
    await s.registry.close()
    assert a_kicks.dropped == b_kicks.dropped == [Dropped("server shutting down")]
    assert not [e for e in drain(s.events) if isinstance(e, PublisherAttached)]


async def test_a_standby_track_is_checked_when_announced(store: Store) -> None:
    stream_id, primary, backup = await make_stream(store)
    registry = StreamRegistry(store, refuse_track=lambda t: "no vp9" if t.codec == "vp9"
                              else None)
    await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=Kicks())
    b = await registry.start_publish(protocol="rtmp", key=backup, peer="b", disconnect=Kicks())
    with pytest.raises(TrackRefused, match="no vp9"):
        b.announce_track(TrackInfo(0, "video", "vp9", 1000, width=640, height=360))
    b.detach("track refused: no vp9")
    live = registry.get(stream_id)
    assert live is not None and live.standby is None
    await registry.close()


async def test_the_registry_checks_by_itself(store: Store) -> None:
    """The periodic check runs from the first publish: a stall fails over, real time."""
    stream_id, primary, backup = await make_stream(store)
    registry = StreamRegistry(store, failover=Failover(after_sec=0.1))
    a = await registry.start_publish(protocol="rtmp", key=primary, peer="a", disconnect=Kicks())
    b = await registry.start_publish(protocol="rtmp", key=backup, peer="b", disconnect=Kicks())
    b.announce_track(SD)
    b.push_frame(frame(SD, 0, key=True))
    live = registry.get(stream_id)
    assert live is not None
    try:
        async with asyncio.timeout(5):
            while live.publisher is not b:
                await asyncio.sleep(0.02)
                b.push_frame(frame(SD, 33))
        assert live.standby is a
    finally:
        await registry.close()


async def test_a_takeover_chain_never_leaves_live(store: Store) -> None:
    """The primary and the backup fail and return in turn; the stream stays live."""
    s, a, b, _, _ = await live_show(store)
    seen = []

    def step(active: Publisher, standby: Publisher | None) -> None:
        assert s.live.publisher is active and s.live.standby is standby
        seen.append(s.live.state)

    s.clock.advance(1.1)  # the primary stalls; the backup keeps sending
    b.push_frame(frame(SD, 1100))
    await s.registry.check_publishers()
    step(b, a)
    a.push_frame(frame(HD, 1200, key=True))  # it recovers: back at its keyframe
    step(a, b)
    a.detach("connection reset")
    step(b, None)
    a = await s.publish("primary", "a-again")
    a.announce_track(HD)
    step(b, a)
    a.push_frame(frame(HD, 0, key=True))
    step(a, b)
    b.detach("closed by peer")
    b = await s.publish("backup", "b-again")
    b.announce_track(SD)
    b.push_frame(frame(SD, 0, key=True))
    step(a, b)
    s.clock.advance(1.5)  # the primary's TCP connection is half-open; OBS reconnects
    b.push_frame(frame(SD, 1500, key=True))  # meanwhile the backup takes over
    step(b, a)
    a = await s.publish("primary", "a-third")
    step(b, a)
    a.announce_track(HD)
    a.push_frame(frame(HD, 0, key=True))
    step(a, b)
    assert seen == ["live"] * 9
    assert s.states() == []
