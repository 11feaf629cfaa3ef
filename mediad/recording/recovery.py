"""Reading a recording back from its folder, and closing one the daemon left open.

A crash or ``kill -9`` while recording leaves a manifest that says ``recording``, journals
that may end in half a line, and perhaps a segment file that no journal line names yet (the
one being written). Recovery keeps every journalled segment whose file is whole, removes the
rest, and closes the recording at its last complete segment: it is then like any other,
marked ``interrupted``. Blocking: run it off the event loop.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mediad.recording.disk import Disk
from mediad.recording.layout import (
    JOURNAL,
    MANIFEST,
    SEGMENT_FILE,
    init_name,
    rendition_dir,
)
from mediad.recording.model import ManifestError, Recording, SegmentEntry

log = logging.getLogger("mediad.recording")


def read_journal(path: Path) -> tuple[list[SegmentEntry], int]:
    """The entries of a journal, up to its first line that is not whole, and the length in
    bytes of that good prefix."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    entries: list[SegmentEntry] = []
    good = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            entries.append(SegmentEntry.from_line(line))
        except ManifestError:
            break
        good += len(line)
    return entries, good


def _whole(folder: Path, entry: SegmentEntry) -> bool:
    try:
        return ((folder / entry.file_name).stat().st_size == entry.size
                and (folder / init_name(entry.init)).is_file())
    except OSError:
        return False


def load_recording(directory: Path, disk: Disk, *, repair: bool) -> Recording | None:
    """The recording in ``directory`` with its segments, or None for a folder that holds
    none (a crash before its manifest was written: removed when ``repair``). ``repair``: a
    recording left open is closed (the daemon is starting, nothing records yet)."""
    try:
        recording = Recording.from_manifest((directory / MANIFEST).read_bytes(), directory)
    except FileNotFoundError:
        if repair and not (directory / MANIFEST).exists():
            log.warning("recording folder without a manifest removed", extra={"fields": {
                "path": str(directory)}})
            disk.remove_tree(directory)
        return None
    except (OSError, ManifestError) as exc:
        log.error("recording not readable, left as it is", extra={"fields": {
            "path": str(directory), "reason": str(exc)}})
        return None
    open_left = repair and recording.state == "recording"
    for rendition in recording.renditions.values():
        folder = rendition_dir(directory, rendition.name)
        entries, good = read_journal(folder / JOURNAL)
        kept: list[SegmentEntry] = []
        for entry in entries:
            if not _whole(folder, entry):
                break
            kept.append(entry)
        rendition.segments = kept
        if open_left:
            _trim_rendition(folder, kept, good if len(kept) == len(entries) else None, disk)
    if open_left:
        ends = [r.segments[-1].end for r in recording.renditions.values() if r.segments]
        recording.state = "complete"
        recording.interrupted = True
        recording.ended_at = round(max(ends) * 1000) if ends else recording.started_at
        disk.replace(directory / MANIFEST, recording.manifest())
        log.warning("interrupted recording closed", extra={"fields": {
            "recording": recording.id, "stream": recording.stream_id,
            "duration_sec": round(recording.duration, 3)}})
    return recording


def _trim_rendition(folder: Path, kept: list[SegmentEntry], good: int | None,
                    disk: Disk) -> None:
    """Segment files no kept entry names go (the one being written); the journal loses
    what follows the kept entries."""
    names = {entry.file_name for entry in kept}
    try:
        listing = list(folder.iterdir())
    except FileNotFoundError:
        return
    for path in listing:
        if SEGMENT_FILE.fullmatch(path.name) and path.name not in names:
            path.unlink(missing_ok=True)
    journal = folder / JOURNAL
    if good is None:  # an entry whose file is not whole: the journal ends before it
        disk.replace(journal, b"".join(entry.to_line() for entry in kept))
    elif journal.exists() and journal.stat().st_size != good:
        os.truncate(journal, good)  # half a line at the end
