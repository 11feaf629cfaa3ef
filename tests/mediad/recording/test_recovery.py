"""What a crash leaves behind is closed at the next start: every whole, journalled segment
kept, the rest removed, the recording listed as interrupted and complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediad.recording.disk import LocalDisk
from mediad.recording.layout import JOURNAL, MANIFEST
from mediad.recording.library import RecordingLibrary
from mediad.recording.model import Recording
from mediad.recording.recovery import load_recording, read_journal
from mediad.store import Store
from tests.mediad.recording.recorder_testing import publish, recorder_config, recorder_rig, until
from tests.mediad.registry_testing import make_stream
from tests.packager.packager_testing import Source, encode_source


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=4, b_frames=2)


async def crashed_recording(store: Store, tmp_path: Path, source: Source) -> Recording:
    """A recording as ``kill -9`` leaves it: its manifest still says ``recording``."""
    async with recorder_rig(store, recorder_config(tmp_path)) as rig:
        stream_id, key, _ = await make_stream(rig.store)
        await publish(rig.registry, key, source)
        recording = rig.recorder.library.for_stream(stream_id)[0]
        await until(lambda: "source" in recording.renditions
                    and len(recording.renditions["source"].segments) >= 3)
        await rig.idle()
        manifest = recording.manifest()  # as written while recording
    (recording.directory / MANIFEST).write_bytes(manifest)
    return recording


async def test_a_crash_loses_only_the_segment_being_written(
        store: Store, tmp_path: Path, source: Source) -> None:
    recording = await crashed_recording(store, tmp_path, source)
    folder = recording.directory / "source"
    entries, _ = read_journal(folder / JOURNAL)
    count = len(entries)
    last = entries[-1]
    stray = folder / f"seg{last.number + 1}.m4s"
    stray.write_bytes(b"half a segment")  # written, not yet journalled
    journal = folder / JOURNAL
    journal.write_bytes(journal.read_bytes() + b'{"n":99,"init":1,"dur')  # half a line
    library = RecordingLibrary(tmp_path / "recordings")
    await library.load()
    found = library.get(recording.id)
    assert found is not None
    assert found.state == "complete" and found.interrupted
    assert [e.number for e in found.renditions["source"].segments] == \
        [e.number for e in entries]
    assert found.ended_at == round(last.end * 1000)
    assert not stray.exists()
    assert read_journal(folder / JOURNAL)[0] == entries
    assert (folder / JOURNAL).read_bytes().endswith(b"\n")
    saved = json.loads((recording.directory / MANIFEST).read_bytes())
    assert saved["state"] == "complete" and saved["interrupted"] is True
    # A second start changes nothing.
    again = RecordingLibrary(tmp_path / "recordings")
    await again.load()
    kept = again.get(recording.id)
    assert kept is not None and len(kept.renditions["source"].segments) == count


async def test_a_segment_cut_short_ends_the_journal_there(
        store: Store, tmp_path: Path, source: Source) -> None:
    recording = await crashed_recording(store, tmp_path, source)
    folder = recording.directory / "source"
    entries, _ = read_journal(folder / JOURNAL)
    second = folder / entries[1].file_name
    second.write_bytes(second.read_bytes()[:-10])  # a write the disk never finished
    found = load_recording(recording.directory, LocalDisk(), repair=True)
    assert found is not None
    assert [e.number for e in found.renditions["source"].segments] == [entries[0].number]
    assert read_journal(folder / JOURNAL)[0] == entries[:1]
    assert not second.exists()


def test_a_folder_without_a_manifest_is_removed(tmp_path: Path) -> None:
    directory = tmp_path / "stream" / ("A" * 16)
    (directory / "source").mkdir(parents=True)
    (directory / "source" / "seg1.m4s").write_bytes(b"x")
    assert load_recording(directory, LocalDisk(), repair=True) is None
    assert not directory.exists()


def test_an_unreadable_manifest_is_left_alone(tmp_path: Path) -> None:
    directory = tmp_path / "stream" / ("B" * 16)
    directory.mkdir(parents=True)
    (directory / MANIFEST).write_bytes(b"{not json")
    assert load_recording(directory, LocalDisk(), repair=True) is None
    assert (directory / MANIFEST).exists()
