"""Pictures out of depacketized RTP: in order, across the sequence wrap, reordered, with a
retransmission in time, and a loss given up after the bound."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.rtp.reassembly import VideoReassembly


def packets(first_seq: int, pictures: int, per_picture: int, ts_step: int = 3000
            ) -> list[tuple[int, int, bool, bytes]]:
    out = []
    seq = first_seq
    for p in range(pictures):
        for i in range(per_picture):
            out.append((seq % 65536, p * ts_step, i == per_picture - 1, bytes([p % 256, i])))
            seq += 1
    return out


def started(r: VideoReassembly, first_seq: int) -> VideoReassembly:
    """``r`` after the end of a picture just before ``first_seq``."""
    assert r.push((first_seq - 1) % 65536, 99, True, b"tail", 0.0) == []
    return r


def feed(r: VideoReassembly, items: list[tuple[int, int, bool, bytes]], now: float = 0.0
         ) -> list[tuple[int, bytes, bool]]:
    out = []
    for seq, ts, marker, data in items:
        out += [(p.timestamp, p.data, p.after_loss) for p in r.push(seq, ts, marker, data, now)]
    return out


def test_pictures_come_out_whole_in_order_across_the_sequence_wrap() -> None:
    items = packets(65530, 4, 3)
    out = feed(started(VideoReassembly(), 65530), items)
    assert [ts for ts, _, _ in out] == [0, 3000, 6000, 9000]
    assert out[1][1] == bytes([1, 0, 1, 1, 1, 2])
    assert not any(loss for _, _, loss in out)


def test_reordered_packets_wait_for_each_other() -> None:
    items = packets(100, 3, 3)
    items[1], items[2] = items[2], items[1]
    items[4], items[6] = items[6], items[4]
    out = feed(started(VideoReassembly(), 100), items)
    assert [ts for ts, _, _ in out] == [0, 3000, 6000]
    assert out[0][1] == bytes([0, 0, 0, 1, 0, 2])


def test_a_retransmission_within_the_bound_repairs_the_picture() -> None:
    r = started(VideoReassembly(max_wait=0.25), 0)
    items = packets(0, 3, 3)
    lost = items.pop(4)  # the middle of picture 1
    out = feed(r, items[:4], now=0.0)
    out += feed(r, items[4:], now=0.1)
    assert [ts for ts, _, _ in out] == [0]
    assert r.waiting == 5
    out += feed(r, [lost], now=0.2)
    assert [ts for ts, _, _ in out] == [0, 3000, 6000]
    assert r.lost_pictures == 0


def test_what_is_missing_and_for_how_long_is_known_while_it_is_waited_for() -> None:
    r = started(VideoReassembly(max_wait=0.25), 65534)
    items = packets(65534, 3, 2)  # seq 65534..3, across the wrap
    del items[1]
    del items[2]
    feed(r, items, now=1.0)
    assert r.missing() == [65535, 1]
    assert r.gap_age(1.1) == pytest.approx(0.1)
    feed(r, [(65535, 0, True, b"\x00\x01")], now=1.15)
    assert r.missing() == [1]


def test_a_loss_past_the_bound_drops_the_broken_picture_and_marks_the_next() -> None:
    r = started(VideoReassembly(max_wait=0.25), 0)
    items = packets(0, 4, 3)
    del items[4]  # picture 1 broken for good
    out = feed(r, items[:6], now=0.0)
    out += feed(r, items[6:], now=0.3)
    assert [ts for ts, _, _ in out] == [0, 6000, 9000]
    assert [loss for _, _, loss in out] == [False, True, False]
    assert r.lost_pictures == 1
    late = r.push(4, 3000, False, b"late", now=0.4)
    assert late == [] and r.late_packets == 1


def test_too_many_packets_behind_a_gap_give_it_up_before_the_time_bound() -> None:
    r = started(VideoReassembly(max_wait=10.0, capacity=8), 0)
    items = packets(0, 6, 3)
    del items[3]  # picture 1 loses its first packet; nothing is waited for past 8 packets
    out = feed(r, items, now=0.0)
    assert [ts for ts, _, _ in out][:2] == [0, 6000]
    assert out[1][2]  # resumed after the loss
    assert r.lost_pictures == 1


def test_the_first_picture_begins_at_a_nal_unit_or_after_a_marker() -> None:
    r = VideoReassembly()
    assert r.push(10, 0, False, b"middle of a fragmented NAL", 0.0) == []
    assert r.push(11, 0, True, b"its end", 0.0) == []
    assert [p.data for p in r.push(12, 3000, True, b"whole", 0.0)] == [b"whole"]
    r = VideoReassembly()
    out = r.push(7, 0, False, b"\x00\x00\x00\x01\x67sps", 0.0)
    out += r.push(8, 0, True, b"\x00\x00\x00\x01\x65idr", 0.0)
    assert [p.data for p in out] == [b"\x00\x00\x00\x01\x67sps\x00\x00\x00\x01\x65idr"]


@given(st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 1 << 32), st.booleans(),
                          st.binary(max_size=8), st.floats(0, 100)), max_size=200))
def test_any_packets_in_any_order_never_raise_and_stay_bounded(
        items: list[tuple[int, int, bool, bytes, float]]) -> None:
    r = VideoReassembly(max_wait=0.1, capacity=64)
    for seq, ts, marker, data, now in items:
        r.push(seq, ts, marker, data, now)
        assert r.waiting <= 65


def test_random_loss_and_reorder_give_every_unbroken_picture_once() -> None:
    rng = random.Random(7)
    items = packets(60000, 300, 4)
    kept = [p for p in items if rng.random() > 0.05]
    for i in range(0, len(kept) - 3, 7):  # local reordering
        kept[i], kept[i + 2] = kept[i + 2], kept[i]
    r = started(VideoReassembly(max_wait=0.05), 60000)
    out = []
    for n, item in enumerate(kept):
        out += feed(r, [item], now=n * 0.01)
    stamps = [ts for ts, _, _ in out]
    assert stamps == sorted(set(stamps))
    assert len(stamps) > 200
    for ts, data, _ in out:  # a picture that lost a packet never comes out, not even in part
        assert len(data) == 8, (ts, data)
