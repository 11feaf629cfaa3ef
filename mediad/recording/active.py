"""One broadcast being recorded: the live segments it takes, turned into writer jobs.

Segments arrive on the event loop as the packager completes them; each becomes one job
(its file, then its journal line) and is listed once the writer says it is on the disk. A
segment the writer refuses (the disk is behind) is left out and the next one starts a
discontinuity, so that players never play across the hole as if it were continuous.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from mediad.recording.disk import Disk
from mediad.recording.layout import JOURNAL, MANIFEST, init_name, rendition_dir
from mediad.recording.model import Recording, RenditionRecord, SegmentEntry
from mediad.recording.writer import DiskWriter, Job, WriteOwner
from packager.llhls import Segment
from packager.segmenter import Segmenter

log = logging.getLogger("mediad.recording")


def describe(name: str, member: Segmenter) -> RenditionRecord:
    """How a live rendition is described in a recording's manifest."""
    tracks = member.tracks
    audio = bool(tracks) and all(track.kind == "audio" for track in tracks)
    width, height = member.resolution() or (0, 0)
    channels = max((t.channels or 0 for t in tracks if t.kind == "audio"), default=0)
    return RenditionRecord(name, audio, member.codecs(), width, height,
                           float(member.stats.frame_rate or 0.0), channels)


def failure_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    return f"the disk failed: {exc.strerror or exc}"


@dataclass
class _RenditionIntake:
    record: RenditionRecord
    inits: dict[bytes, int] = field(default_factory=dict)
    """Init sections written, by content: a publisher coming back with the same
    parameters reuses its number."""
    next_number: int = 1
    gap: bool = False
    """A segment was left out: the next one written starts a discontinuity."""


class ActiveRecording:
    def __init__(self, recording: Recording, writer: DiskWriter,
                 renditions: Callable[[str], bool]) -> None:
        self.recording = recording
        self.writer = writer
        self.wanted = renditions
        self.owner = WriteOwner(f"recording {recording.id}", on_failure=self._failed)
        self._intakes: dict[str, _RenditionIntake] = {}
        self.closed = False

    @property
    def stopped(self) -> bool:
        return self.recording.state == "stopped"

    def begin(self) -> None:
        self._write_manifest()

    def segment(self, name: str, member: Segmenter, segment: Segment) -> None:
        if self.closed or self.stopped or not self.wanted(name):
            return
        intake = self._intakes.get(name)
        described = describe(name, member)
        if intake is None:
            intake = self._intakes[name] = _RenditionIntake(described)
            self.recording.renditions[name] = intake.record
            self._write_manifest()
        elif described.describe() != intake.record.describe():
            # The frame rate is measured from the first segments; a new encoder brings
            # another picture size: the replay's multivariant playlist says the latest.
            intake.record.take_description(described)
            self._write_manifest()
        init = member.playlist.inits.get(segment.init)
        if init is None:  # trimmed already (the byte cap): nothing to decode it with
            intake.gap = True
            return
        folder = rendition_dir(self.recording.directory, name)
        number = intake.inits.get(init)
        if number is None:
            number = intake.inits[init] = len(intake.inits) + 1
            path = folder / init_name(number)
            self.writer.submit(Job(self.owner, lambda disk: disk.write(path, init),
                                   len(init), must=True))
        entry = SegmentEntry(intake.next_number, number, segment.duration,
                             segment.program_date_time, len(segment.data),
                             discontinuity=intake.next_number > 1
                             and (segment.discontinuity or intake.gap))
        data = segment.data

        def write(disk: Disk) -> None:
            disk.write(folder / entry.file_name, data)
            disk.append(folder / JOURNAL, entry.to_line())

        def written() -> None:
            intake.record.segments.append(entry)

        if self.writer.submit(Job(self.owner, write, len(data), written)):
            intake.next_number += 1
            intake.gap = False
        else:
            intake.gap = True
            self.recording.skipped_segments += 1
            if self.recording.skipped_segments == 1:
                log.warning("recording falls behind: the disk is slower than the stream",
                            extra={"fields": {"recording": self.recording.id,
                                              "stream": self.recording.stream_id}})

    def close(self, ended_at: int) -> None:
        """The broadcast ended: the manifest says so once every queued segment is on disk."""
        if self.closed:
            return
        self.closed = True
        if not self.stopped:
            self.recording.state = "complete"
            self.recording.ended_at = ended_at
            self._write_manifest()

    def abandon(self) -> None:
        """Deleted while recording: nothing queued for it is written any more (skipped
        quietly: only a job that fails tells the owner)."""
        self.closed = True
        if self.owner.failed is None:
            self.owner.failed = OSError("the recording was deleted")

    def _write_manifest(self) -> None:
        path = self.recording.directory / MANIFEST
        manifest = self.recording.manifest()
        self.writer.submit(Job(self.owner, lambda disk: disk.replace(path, manifest),
                               len(manifest), must=True))

    def _failed(self, exc: OSError) -> None:
        """On the loop: the disk refused a write. The recording ends here with what it has;
        the live stream goes on."""
        recording = self.recording
        recording.state = "stopped"
        recording.stop_reason = failure_reason(exc)
        ends = [r.segments[-1].end for r in recording.renditions.values() if r.segments]
        recording.ended_at = round(max(ends) * 1000) if ends else recording.started_at
        log.error("recording stopped: %s", recording.stop_reason, extra={"fields": {
            "recording": recording.id, "stream": recording.stream_id,
            "error": str(exc)}})
        # The manifest may still fit (a freed byte, a failing sector elsewhere); if not, the
        # next start closes the recording from its journals all the same.
        path = recording.directory / MANIFEST
        manifest = recording.manifest()
        self.writer.submit(Job(WriteOwner(f"manifest {recording.id}"),
                               lambda disk: disk.replace(path, manifest), must=True))
