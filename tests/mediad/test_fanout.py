from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.media import Frame, TrackInfo
from mediad.fanout import Discontinuity, Reader, StreamEnd, TrackChange

VIDEO = TrackInfo(0, "video", "h264", 1000)
AUDIO = TrackInfo(1, "audio", "aac", 1000)


def vframe(ts: int, key: bool) -> Frame:
    return Frame(VIDEO, ts, ts, key, b"v")


def aframe(ts: int) -> Frame:
    return Frame(AUDIO, ts, ts, True, b"a")


def drain(reader: Reader) -> list[object]:
    out = []
    while (item := reader.get_nowait()) is not None:
        out.append(item)
    return out


def test_new_reader_starts_at_a_keyframe() -> None:
    reader = Reader("r", 10)
    reader.offer(TrackChange(VIDEO))
    reader.offer(vframe(0, False))
    reader.offer(vframe(33, True))
    reader.offer(vframe(66, False))
    assert [getattr(i, "dts", None) for i in drain(reader)] == [None, 33, 66]
    assert (reader.dropped_frames, reader.skipped_before_start) == (0, 1)


def test_slow_reader_drops_whole_gops_and_counts() -> None:
    reader = Reader("r", 4)
    reader.offer(TrackChange(VIDEO))
    reader.offer(TrackChange(AUDIO))
    gops = [[vframe(g * 100 + i, i == 0) for i in range(3)] for g in range(4)]
    for gop in gops:
        for frame in gop:
            reader.offer(frame)
            reader.offer(aframe(frame.dts))
    items = [i for i in drain(reader) if isinstance(i, Frame)]
    # The first GOP prefix fits, then everything is skipped until a keyframe finds room:
    # the queue never holds a frame whose reference was dropped.
    assert len(items) == 4
    assert items[0].keyframe and items[0].is_video
    assert reader.dropped_frames == 24 - 4
    reader.offer(vframe(1000, True))
    assert drain(reader) == [vframe(1000, True)]


def test_control_items_are_never_dropped() -> None:
    reader = Reader("r", 1)
    reader.offer(vframe(0, True))
    reader.offer(Discontinuity("takeover"))
    reader.offer(StreamEnd("gone"))
    assert [type(i).__name__ for i in drain(reader)] == ["Frame", "Discontinuity", "StreamEnd"]


def test_after_discontinuity_waits_for_keyframe() -> None:
    reader = Reader("r", 10)
    reader.offer(TrackChange(VIDEO))
    reader.offer(vframe(0, True))
    reader.offer(Discontinuity("takeover"))
    reader.offer(vframe(5, False))
    reader.offer(vframe(10, True))
    frames = [i.dts for i in drain(reader) if isinstance(i, Frame)]
    assert frames == [0, 10]


async def test_get_waits_and_close_ends() -> None:
    reader = Reader("r", 10)
    waiter = asyncio.create_task(reader.get())
    await asyncio.sleep(0)
    reader.offer(aframe(1))
    assert await asyncio.wait_for(waiter, 1) == aframe(1)
    reader.close()
    with pytest.raises(EOFError):
        await reader.get()


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=300),
       st.integers(1, 20))
def test_every_delivered_gop_is_contiguous(ops: list[tuple[bool, bool, bool]],
                                           capacity: int) -> None:
    """Whatever the consumer's pace, delivered video is keyframe-led runs of consecutive
    frames, and the queue never exceeds its capacity."""
    reader = Reader("r", capacity)
    reader.offer(TrackChange(VIDEO))
    delivered: list[Frame] = []
    for ts, (key, consume, _) in enumerate(ops):
        reader.offer(vframe(ts, key or ts == 0))
        assert reader.pending() <= capacity + 1
        if consume:
            item = reader.get_nowait()
            if isinstance(item, Frame):
                delivered.append(item)
    delivered += [i for i in drain(reader) if isinstance(i, Frame)]
    for prev, cur in itertools.pairwise(delivered):
        assert cur.keyframe or cur.dts == prev.dts + 1
    assert len(delivered) + reader.dropped_frames + reader.skipped_before_start == len(ops)
