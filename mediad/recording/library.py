"""Every recording and clip on disk, indexed in memory (the event loop's): found and
repaired at start, added as they begin, removed when deleted or past their retention."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from mediad.recording.disk import Disk, LocalDisk
from mediad.recording.layout import INIT_FILE, RECORDING_ID, RENDITION_NAME, SEGMENT_FILE
from mediad.recording.model import Recording, RecordingKind
from mediad.recording.recovery import load_recording

log = logging.getLogger("mediad.recording")

DAY_MS = 86_400_000

Remover = Callable[[Recording], Awaitable[None]]


class RecordingLibrary:
    def __init__(self, root: Path, disk: Disk | None = None) -> None:
        self.root = root
        self.disk = disk if disk is not None else LocalDisk()
        self._recordings: dict[str, Recording] = {}
        self.remove: Remover = self._remove_files
        """How a deleted recording's files go (the recorder routes it through its writer,
        after whatever it still had queued for that recording)."""

    async def load(self) -> None:
        """Find every recording under the root, closing those a crash left open."""
        found = await asyncio.to_thread(self._scan)
        for recording in found:
            self._recordings[recording.id] = recording
        log.info("recordings found", extra={"fields": {
            "root": str(self.root), "recordings": len(found)}})

    def _scan(self) -> list[Recording]:
        found: list[Recording] = []
        if not self.root.is_dir():
            return found
        for stream in sorted(self.root.iterdir()):
            if not stream.is_dir():
                continue
            for directory in sorted(stream.iterdir()):
                if directory.is_dir() and RECORDING_ID.fullmatch(directory.name):
                    recording = load_recording(directory, self.disk, repair=True)
                    if recording is not None:
                        found.append(recording)
        return found

    def add(self, recording: Recording) -> None:
        self._recordings[recording.id] = recording

    def get(self, recording_id: str) -> Recording | None:
        return self._recordings.get(recording_id)

    def all(self) -> list[Recording]:
        return list(self._recordings.values())

    def for_stream(self, stream_id: str, kind: RecordingKind | None = None) -> list[Recording]:
        """Newest first."""
        return _newest_first(r for r in self._recordings.values()
                             if r.stream_id == stream_id and kind in (None, r.kind))

    def recent(self, kind: RecordingKind, limit: int,
               stream_ids: Callable[[str], bool] | None = None) -> list[Recording]:
        """The newest complete recordings of ``kind`` with media, of the streams
        ``stream_ids`` accepts (all by default)."""
        return _newest_first(
            r for r in self._recordings.values()
            if r.kind == kind and r.complete and r.duration > 0
            and (stream_ids is None or stream_ids(r.stream_id)))[:limit]

    @property
    def size(self) -> int:
        return sum(r.size for r in self._recordings.values())

    async def delete(self, recording_id: str) -> bool:
        """The recording is no longer listed at once; its files go after."""
        recording = self._recordings.pop(recording_id, None)
        if recording is None:
            return False
        await self.remove(recording)
        log.info("recording deleted", extra={"fields": {
            "recording": recording.id, "stream": recording.stream_id}})
        return True

    async def _remove_files(self, recording: Recording) -> None:
        await asyncio.to_thread(self.disk.remove_tree, recording.directory)

    def file(self, recording: Recording, rendition: str, name: str) -> Path | None:
        """A media file of the recording that its journal names, or None."""
        record = recording.renditions.get(rendition)
        if record is None or not RENDITION_NAME.fullmatch(rendition):
            return None
        if (match := SEGMENT_FILE.fullmatch(name)) is not None:
            number = int(match[1])
            segments = record.segments
            # Numbers run from 1 without gaps (a skipped segment takes none): no scan.
            listed = ((0 < number <= len(segments) and segments[number - 1].number == number)
                      or any(entry.number == number for entry in segments))
            if not listed:
                return None
        elif (match := INIT_FILE.fullmatch(name)) is not None:
            if int(match[1]) not in record.inits:
                return None
        else:
            return None
        return recording.directory / rendition / name

    def expired(self, now_ms: int, keep_days: Callable[[str], int], max_bytes: int
                ) -> list[Recording]:
        """The complete broadcast recordings retention removes: older than their stream's
        ``keep_days`` (0: kept), then the oldest until all recordings fit ``max_bytes`` (0:
        no limit). Clips and recordings in progress are never chosen."""
        candidates = sorted((r for r in self._recordings.values()
                             if r.kind == "broadcast" and r.complete),
                            key=lambda r: (r.ended_at or r.started_at, r.id))
        chosen: list[Recording] = []
        for recording in candidates:
            days = keep_days(recording.stream_id)
            if days and now_ms - (recording.ended_at or recording.started_at) > days * DAY_MS:
                chosen.append(recording)
        if max_bytes:
            total = self.size - sum(r.size for r in chosen)
            for recording in candidates:
                if total <= max_bytes:
                    break
                if recording not in chosen:
                    chosen.append(recording)
                    total -= recording.size
        return chosen


def _newest_first(recordings: Iterable[Recording]) -> list[Recording]:
    return sorted(recordings, key=lambda r: (-r.started_at, r.id))
