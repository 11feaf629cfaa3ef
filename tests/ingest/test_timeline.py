"""ingest.timeline: wrapping DTS/PTS onto one axis at 32 bits (RTMP milliseconds) and 33 bits
(MPEG-TS 90 kHz), discontinuities clamped or rebased, one (dts, pts) convention."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ingest.timeline import Backwards, Stamp, Timeline

WRAP33 = 1 << 33
WRAP32 = 1 << 32


def mpegts() -> Timeline:
    return Timeline(33, on_backwards="rebase")


def rtmp() -> Timeline:
    return Timeline(32, on_backwards="clamp")


def pes_stamp(timeline: Timeline, pts: int, dts: int, anchor: int | None = None) -> Stamp:
    """What the MPEG-TS demuxer asks for a PES's 33-bit PTS and DTS."""
    return timeline.stamp(dts, timeline.difference(pts, dts), anchor=anchor)


# -- 33 bits, rebasing (MPEG-TS) ----------------------------------------------------------------

def test_extends_across_the_33_bit_wrap() -> None:
    timeline = mpegts()
    stamps = [(WRAP33 - 3000, WRAP33 - 6000), (WRAP33 - 10, WRAP33 - 3000), (2990, 5),
              (6000, 3000)]
    assert [pes_stamp(timeline, p, d) for p, d in stamps] == [
        Stamp(dts=WRAP33 - 6000, pts=WRAP33 - 3000), Stamp(dts=WRAP33 - 3000, pts=WRAP33 - 10),
        Stamp(dts=WRAP33 + 5, pts=WRAP33 + 2990), Stamp(dts=WRAP33 + 3000, pts=WRAP33 + 6000)]


def test_pts_before_the_wrap_with_dts_after() -> None:
    timeline = mpegts()
    pes_stamp(timeline, WRAP33 - 100, WRAP33 - 100)
    assert pes_stamp(timeline, 50, WRAP33 - 50) == Stamp(dts=WRAP33 - 50, pts=WRAP33 + 50)


def test_a_backwards_dts_rebases_the_rest_of_the_track() -> None:
    timeline = mpegts()
    assert pes_stamp(timeline, 90000, 90000) == Stamp(dts=90000, pts=90000)
    assert pes_stamp(timeline, 1000, 1000) == Stamp(dts=90000, pts=90000)  # onto the last DTS
    assert pes_stamp(timeline, 4000, 4000) == Stamp(dts=93000, pts=93000)  # and on from there
    assert timeline.jumps == 1


def test_the_first_value_lands_near_the_anchor() -> None:
    assert pes_stamp(mpegts(), 100, 100, anchor=WRAP33 - 50) == Stamp(WRAP33 + 100, WRAP33 + 100)
    assert pes_stamp(mpegts(), WRAP33 - 50, WRAP33 - 50, anchor=WRAP33 + 100) == Stamp(
        WRAP33 - 50, WRAP33 - 50)
    assert pes_stamp(mpegts(), 5, 5, anchor=3 * WRAP33) == Stamp(3 * WRAP33 + 5, 3 * WRAP33 + 5)
    timeline = mpegts()
    timeline.stamp(7, anchor=WRAP33)
    assert timeline.raw == WRAP33 + 7 and timeline.stamp(8) == Stamp(WRAP33 + 8, WRAP33 + 8)


def test_follow_keeps_later_stamps_past_derived_ones() -> None:
    """An audio PES holding several frames: the demuxer derives the later frames' times."""
    timeline = mpegts()
    timeline.stamp(9000)
    timeline.follow(12840)  # the third frame of that PES
    timeline.follow(10000)  # never backwards
    assert timeline.last == 12840
    assert timeline.stamp(12000) == Stamp(12840, 12840) and timeline.jumps == 1
    fresh = mpegts()
    fresh.follow(5)  # nothing handed out yet: nothing to follow
    assert fresh.last is None


# -- 32 bits, clamping (RTMP) -------------------------------------------------------------------

def test_extends_across_the_32_bit_wrap() -> None:
    timeline = rtmp()
    stamps = [0xFFFFFF00, 0xFFFFFFF0, 0x10, 0x100, 0x7FFFFFFF, 0x80000010]
    assert [timeline.stamp(ts, 5).dts for ts in stamps] == [
        0xFFFFFF00, 0xFFFFFFF0, WRAP32 + 0x10, WRAP32 + 0x100, WRAP32 + 0x7FFFFFFF,
        WRAP32 + 0x80000010]
    assert timeline.stamp(0x80000020, 10) == Stamp(WRAP32 + 0x80000020, WRAP32 + 0x8000002A)
    assert timeline.stamp(0x80000030, -10) == Stamp(WRAP32 + 0x80000030, WRAP32 + 0x80000030)


def test_a_backwards_dts_is_clamped_and_the_track_not_shifted() -> None:
    timeline = rtmp()
    assert [timeline.stamp(ts, cts) for ts, cts in [(1000, 0), (900, 50), (950, -200),
                                                   (1100, 0)]] == [
        Stamp(1000, 1000), Stamp(1000, 1000), Stamp(1000, 1000), Stamp(1100, 1100)]
    assert timeline.jumps == 2


def test_a_timestamp_just_before_the_first_goes_negative_not_a_wrap_ahead() -> None:
    timeline = rtmp()
    timeline.stamp(10)
    assert timeline.stamp(0xFFFFFFF0) == Stamp(10, 10)  # 26 ms back: clamped
    assert timeline.raw == -16


def test_difference_is_the_nearest_signed_step() -> None:
    for bits in (32, 33):
        timeline = Timeline(bits, on_backwards="clamp")
        half = 1 << (bits - 1)
        assert timeline.difference(5, 3) == 2 and timeline.difference(3, 5) == -2
        assert timeline.difference(half - 1, 0) == half - 1
        assert timeline.difference(half, 0) == -half
        assert timeline.difference(0, (1 << bits) - 1) == 1


# -- properties ---------------------------------------------------------------------------------

@given(st.sampled_from([32, 33]), st.integers(0, (1 << 33) - 1),
       st.lists(st.integers(0, (1 << 31) - 1), max_size=30), st.sampled_from(["clamp", "rebase"]))
def test_forward_steps_of_any_size_below_half_the_wrap_add_up(
        bits: int, start: int, steps: list[int], policy: Backwards) -> None:
    timeline = Timeline(bits, on_backwards=policy)
    start %= 1 << bits
    expected = list(itertools.accumulate(steps, initial=start))
    got = [timeline.stamp(value % (1 << bits)).dts for value in expected]
    assert got == expected and timeline.jumps == 0


@given(st.sampled_from([32, 33]), st.sampled_from(["clamp", "rebase"]),
       st.lists(st.tuples(st.integers(0, (1 << 33) - 1), st.integers(-5000, 5000)),
                min_size=1, max_size=30))
def test_dts_never_goes_backwards_and_pts_never_below_it(
        bits: int, policy: Backwards, stamps: list[tuple[int, int]]) -> None:
    timeline = Timeline(bits, on_backwards=policy)
    out = [timeline.stamp(dts % (1 << bits), cts) for dts, cts in stamps]
    assert all(a.dts <= b.dts for a, b in itertools.pairwise(out))
    assert all(s.pts >= s.dts for s in out)
    assert timeline.last == out[-1].dts
