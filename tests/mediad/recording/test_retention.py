"""Retention: broadcast recordings older than their stream keeps them, then the oldest past
the size cap; clips and recordings in progress never."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mediad.clock import now_ms
from mediad.recording.library import DAY_MS, RecordingLibrary
from mediad.recording.model import (
    ManifestError,
    Recording,
    RecordingKind,
    RenditionRecord,
    SegmentEntry,
)
from mediad.store import Store
from tests.mediad.recording.recorder_testing import recorder_config, recorder_rig
from tests.mediad.registry_testing import make_stream

NOW = 1_800_000_000_000


def made(library: RecordingLibrary, name: str, stream: str, ended_days_ago: float,
         size: int, kind: RecordingKind = "broadcast", complete: bool = True,
         now: int = NOW) -> Recording:
    ended = now - round(ended_days_ago * DAY_MS)
    recording = Recording(name.ljust(16, "x"), stream, kind, name, ended - 1000,
                          library.root / stream / name.ljust(16, "x"),
                          ended_at=ended if complete else None,
                          state="complete" if complete else "recording")
    recording.renditions["source"] = RenditionRecord(
        "source", False, "avc1", segments=[SegmentEntry(1, 1, 1.0, 0.0, size)])
    library.add(recording)
    return recording


def test_by_days_with_a_stream_of_its_own(tmp_path: Path) -> None:
    library = RecordingLibrary(tmp_path)
    old = made(library, "old", "a", 31, 10)
    made(library, "fresh", "a", 29, 10)
    kept_longer = made(library, "kept", "b", 31, 10)
    made(library, "clip", "a", 400, 10, kind="clip")
    made(library, "running", "a", 400, 10, complete=False)
    keep = {"a": 30, "b": 60}
    assert library.expired(NOW, keep.__getitem__, 0) == [old]
    keep["b"] = 0  # kept until deleted
    assert library.expired(NOW, keep.__getitem__, 0) == [old]
    keep["b"] = 10
    assert set(map(id, library.expired(NOW, keep.__getitem__, 0))) == {
        id(old), id(kept_longer)}


def test_by_size_the_oldest_first(tmp_path: Path) -> None:
    library = RecordingLibrary(tmp_path)
    first = made(library, "first", "a", 3, 100)
    second = made(library, "second", "a", 2, 100)
    made(library, "third", "a", 1, 100)
    made(library, "clip", "a", 5, 100, kind="clip")
    assert library.expired(NOW, lambda _: 0, 400) == []
    assert library.expired(NOW, lambda _: 0, 300) == [first]
    assert library.expired(NOW, lambda _: 0, 250) == [first, second]


async def test_retention_deletes_the_files(store: Store, tmp_path: Path) -> None:
    async with recorder_rig(store, recorder_config(tmp_path, keep_days=1)) as rig:
        stream_id, _, _ = await make_stream(rig.store)
        library = rig.recorder.library
        now = now_ms()
        old = made(library, "old", stream_id, 2, 10, now=now)
        young = made(library, "young", stream_id, 0.5, 10, now=now)
        orphan = made(library, "orphan", "gone", 0.1, 10, now=now)
        for recording in (old, young, orphan):
            recording.directory.mkdir(parents=True)
        removed = await rig.recorder.apply_retention()
        assert {r.id for r in removed} == {old.id, orphan.id}
        assert not old.directory.exists() and not orphan.directory.exists()
        assert young.directory.exists() and library.get(young.id) is young
        await rig.store.streams.update(stream_id, record_keep_days=0)
        young_old = made(library, "young2", stream_id, 5, 10, now=now)
        assert await rig.recorder.apply_retention() == []
        assert library.get(young_old.id) is young_old


@given(st.binary(max_size=200))
def test_a_journal_line_is_read_or_refused(line: bytes) -> None:
    try:
        SegmentEntry.from_line(line)
    except ManifestError:
        pass


@given(st.binary(max_size=300))
def test_a_manifest_is_read_or_refused(data: bytes) -> None:
    try:
        Recording.from_manifest(data, Path("x"))
    except ManifestError:
        pass
