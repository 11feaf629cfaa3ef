"""The recorder against a real registry and packaging: what it keeps is what live viewers
were served, byte for byte; a disk that is slow, full or failing costs the recording, never
the stream."""

from __future__ import annotations

import errno
from pathlib import Path

import m3u8
import pytest

from mediad.recording.layout import JOURNAL, MANIFEST, init_name
from mediad.recording.library import RecordingLibrary
from mediad.recording.model import Recording
from mediad.recording.vod import render_recording_multivariant, render_rendition_playlist
from mediad.store import Store
from tests.mediad.recording.recorder_testing import (
    FullDisk,
    GatedDisk,
    Rig,
    publish,
    push,
    recorder_config,
    recorder_rig,
    until,
)
from tests.mediad.registry_testing import make_stream
from tests.packager.packager_testing import Source, encode_source


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=4, b_frames=2)


async def record_broadcast(rig: Rig, source: Source) -> Recording:
    stream_id, key, _ = await make_stream(rig.store)
    session = await publish(rig.registry, key, source)
    await until(lambda: bool(rig.recorder.library.for_stream(stream_id)))
    await until(lambda: len(rig.served.get("source", [])) >= 2)
    session.detach("done")
    await rig.registry.end(stream_id)
    recording = rig.recorder.library.for_stream(stream_id)[0]
    await until(lambda: recording.state == "complete")
    await rig.idle()
    return recording


async def test_a_broadcast_is_kept_byte_for_byte(store: Store, tmp_path: Path,
                                                 source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        recording = await record_broadcast(rig, source)
        await until(lambda: sum(len(r.segments) for r in recording.renditions.values())
                    == len(rig.served["source"]))
    assert recording.kind == "broadcast" and recording.title == "Show"
    assert recording.ended_at is not None and not recording.interrupted
    record = recording.renditions["source"]
    assert not record.audio and (record.width, record.height) == (320, 240)
    folder = recording.directory / "source"
    for entry, (segment, init) in zip(record.segments, rig.served["source"], strict=True):
        assert (folder / entry.file_name).read_bytes() == segment.data
        assert (folder / init_name(entry.init)).read_bytes() == init
        assert entry.duration == pytest.approx(segment.duration)
    # The next start finds it as it was left.
    library = RecordingLibrary(rig.recorder.root)
    await library.load()
    again = library.get(recording.id)
    assert again is not None and again.state == "complete"
    assert again.renditions["source"].segments == record.segments


async def test_the_replay_playlists_are_vod(store: Store, tmp_path: Path,
                                            source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        recording = await record_broadcast(rig, source)
    rendered = render_recording_multivariant(recording)
    assert rendered is not None
    variants = m3u8.loads(rendered.text.decode())
    assert [p.uri for p in variants.playlists] == ["source/index.m3u8"]
    assert variants.playlists[0].stream_info.resolution == (320, 240)
    media = m3u8.loads(render_rendition_playlist(
        recording, recording.renditions["source"], 1.0).text.decode())
    assert media.playlist_type == "vod" and media.is_endlist
    assert len(media.segments) == len(recording.renditions["source"].segments)
    assert all(round(s.duration) <= media.target_duration for s in media.segments)
    assert media.segments[0].init_section.uri == "init1.mp4"


async def test_a_preview_is_not_recorded(store: Store, tmp_path: Path,
                                         source: Source) -> None:
    config = recorder_config(tmp_path)
    async with recorder_rig(store, config) as rig:
        rig.registry._auto_live = False
        stream_id, key, _ = await make_stream(rig.store)
        session = await publish(rig.registry, key, source)
        await until(lambda: len(rig.served.get("source", [])) >= 2)
        session.detach("done")
        assert rig.recorder.library.for_stream(stream_id) == []


async def test_a_stream_that_does_not_record(store: Store, tmp_path: Path,
                                             source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path, enabled=False)) as rig:
        stream_id, key, _ = await make_stream(rig.store)
        session = await publish(rig.registry, key, source)
        await until(lambda: len(rig.served.get("source", [])) >= 2)
        session.detach("done")
        assert rig.recorder.library.for_stream(stream_id) == []
        await rig.store.streams.update(stream_id, record=True)
        session = await publish(rig.registry, key, source, shift_ms=10_000)
        await until(lambda: bool(rig.recorder.library.for_stream(stream_id)))
        session.detach("done")


async def test_a_slow_disk_costs_segments_never_the_stream(store: Store, tmp_path: Path,
                                                           source: Source) -> None:
    disk = GatedDisk()
    async with recorder_rig(store, recorder_config(tmp_path), disk) as rig:
        assert rig.recorder.writer is not None
        rig.recorder.writer.capacity_bytes = 30_000  # a few of these small segments
        stream_id, key, _ = await make_stream(rig.store)
        session = await publish(rig.registry, key, source)
        for shift in (4000, 8000):
            await push(session, source, shift)
        live = len(rig.served["source"])
        recording = rig.recorder.library.for_stream(stream_id)[0]
        health = rig.recorder.health(stream_id)
        assert recording.skipped_segments > 0
        assert health is not None and "fell behind" in str(health["warning"])
        disk.gate.set()
        await rig.idle()
        written = recording.renditions["source"].segments
        assert 0 < len(written) == live - recording.skipped_segments
        before = len(written)
        await push(session, source, 12000)  # the disk keeps up again
        await rig.idle()
        assert len(written) > before
        # The segment after the hole starts a discontinuity; none before it.
        assert written[before].discontinuity
        assert not any(entry.discontinuity for entry in written[:before])
        session.detach("done")


@pytest.mark.parametrize(("error", "reason"), [(errno.ENOSPC, "the disk is full"),
                                                (errno.EIO, "the disk failed")])
async def test_a_full_or_failing_disk_stops_the_recording_not_the_stream(
        store: Store, tmp_path: Path, source: Source, error: int, reason: str) -> None:
    async with recorder_rig(store, recorder_config(tmp_path), FullDisk(2, error)) as rig:
        stream_id, key, _ = await make_stream(rig.store)
        session = await publish(rig.registry, key, source)
        recording = rig.recorder.library.for_stream(stream_id)[0]
        await until(lambda: recording.state == "stopped")
        assert reason in recording.stop_reason
        health = rig.recorder.health(stream_id)
        assert health is not None and reason in str(health["warning"])
        before = len(rig.served["source"])
        await push(session, source, 4000)
        assert len(rig.served["source"]) > before  # the live stream goes on
        await rig.idle()
        assert len(recording.renditions["source"].segments) == 2
        session.detach("done")
    library = RecordingLibrary(tmp_path / "recordings")
    await library.load()
    kept = library.get(recording.id)
    assert kept is not None and kept.complete
    assert len(kept.renditions["source"].segments) == 2


async def test_deleting_a_recording_in_progress_stops_it(store: Store, tmp_path: Path,
                                                         source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        stream_id, key, _ = await make_stream(rig.store)
        session = await publish(rig.registry, key, source)
        recording = rig.recorder.library.for_stream(stream_id)[0]
        assert await rig.recorder.library.delete(recording.id)
        await push(session, source, 4000)
        await rig.idle()
        assert not recording.directory.exists()
        assert rig.recorder.library.for_stream(stream_id) == []
        assert rig.recorder.health(stream_id) is None
        session.detach("done")


async def test_a_deleted_stream_takes_its_recordings(store: Store, tmp_path: Path,
                                                     source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        recording = await record_broadcast(rig, source)
        await rig.registry.forget(recording.stream_id)
        await rig.store.streams.delete(recording.stream_id)
        await until(lambda: rig.recorder.library.get(recording.id) is None)
        await rig.idle()
        assert not recording.directory.exists()


async def test_a_recording_lists_its_files(store: Store, tmp_path: Path,
                                           source: Source) -> None:
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        recording = await record_broadcast(rig, source)
    library = rig.recorder.library
    assert library.file(recording, "source", "seg1.m4s") == \
        recording.directory / "source" / "seg1.m4s"
    assert library.file(recording, "source", "init1.mp4") is not None
    for name in ("seg999.m4s", "init9.mp4", MANIFEST, JOURNAL, "../recording.json"):
        assert library.file(recording, "source", name) is None
    assert library.file(recording, "nope", "seg1.m4s") is None
