"""Clips: the newest whole segments of the DVR window closest to what was asked, kept like a
recording, on disk before the clip is acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediad.recording.clips import ClipRefused, newest_covering, same_stretch
from mediad.recording.library import RecordingLibrary
from mediad.store import Store
from packager.llhls import Segment
from tests.mediad.recording.recorder_testing import (
    publish,
    push,
    recorder_config,
    recorder_rig,
    until,
)
from tests.mediad.registry_testing import make_stream
from tests.packager.packager_testing import Source, encode_source


def segments(*durations: float, start: float = 1000.0) -> list[Segment]:
    made = []
    for msn, duration in enumerate(durations, start=1):
        made.append(Segment(msn, start, 1, False, duration=duration, complete=True))
        start += duration
    return made


def test_the_newest_segments_closest_to_the_length_asked() -> None:
    window = segments(1.0, 1.0, 2.0, 1.0, 1.0)
    assert [s.msn for s in newest_covering(window, 2.0)] == [4, 5]
    assert [s.msn for s in newest_covering(window, 2.9)] == [4, 5]
    assert [s.msn for s in newest_covering(window, 3.6)] == [3, 4, 5]
    assert [s.msn for s in newest_covering(window, 60)] == [1, 2, 3, 4, 5]
    assert [s.msn for s in newest_covering(window, 0.1)] == [5]


def test_the_open_segment_is_never_clipped() -> None:
    window = segments(1.0, 1.0)
    window.append(Segment(3, 1002.0, 1, False))  # still being written
    assert [s.msn for s in newest_covering(window, 1.0)] == [2]
    assert newest_covering([], 5) == []


def test_other_renditions_give_the_same_stretch() -> None:
    audio = segments(1.0, 1.0, 1.0, 1.0)
    assert [s.msn for s in same_stretch(audio, 1001.0, 1003.0)] == [2, 3]


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=4, b_frames=2)


async def test_a_clip_of_a_live_stream(store: Store, tmp_path: Path, source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path, enabled=False)) as rig:
        stream_id, key, _ = await make_stream(rig.store)
        viewer = await rig.store.users.create("vic", "Vic", "viewer", "x")
        session = await publish(rig.registry, key, source)
        await push(session, source, 4000)
        await until(lambda: len(rig.served.get("source", [])) >= 6)
        clip = await rig.recorder.clip(stream_id, 3.0, "Nice", viewer)
        assert clip.kind == "clip" and clip.created_by == "vic" and clip.complete
        assert abs(clip.duration - 3.0) <= 1.0  # within one GOP (1 s here)
        live = {segment.data for segment, _ in rig.served["source"]}
        record = clip.renditions["source"]
        for entry in record.segments:
            data = (clip.directory / "source" / entry.file_name).read_bytes()
            assert data in live  # the bytes viewers were served
        assert rig.recorder.library.for_stream(stream_id, "clip") == [clip]
        session.detach("done")
    # It is on disk: the next start lists it.
    library = RecordingLibrary(tmp_path / "recordings")
    await library.load()
    kept = library.get(clip.id)
    assert kept is not None and kept.kind == "clip" and not kept.interrupted
    assert kept.renditions["source"].segments == record.segments


async def test_no_clip_of_a_stream_that_is_not_live(store: Store, tmp_path: Path) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        stream_id, _, _ = await make_stream(rig.store)
        viewer = await rig.store.users.create("vic", "Vic", "viewer", "x")
        with pytest.raises(ClipRefused) as refused:
            await rig.recorder.clip(stream_id, 10, "x", viewer)
        assert refused.value.status == 409
