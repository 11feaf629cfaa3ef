"""A real recording on disk, for tests: libx264 (1 s GOPs, B-frames, so pts != dts) and AAC
from PyAV go through a real ``StreamPipeline`` (inline hop), every completed segment is
caught by a segment listener and written in ``mediad.recording.layout``'s layout: init
sections, segment files, journals and a manifest (``complete`` by default).

    written = record_to_disk(tmp_path, seconds=3)             # "source": video + audio muxed
    written = record_to_disk(tmp_path, seconds=3, ladder=True)  # "source" + "120p" + "audio"
    written = record_to_disk(tmp_path, seconds=2, resize=(160, 120))  # a second init section

``written.recording`` is the ``Recording`` with every rendition's segments filled, as the
library would load it; ``written.publishes`` the frames fed, per publish, in order.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mediad.recording import layout
from mediad.recording.model import (
    Recording,
    RecordingKind,
    RecordingState,
    RenditionRecord,
    SegmentEntry,
)
from packager.llhls import PlaylistSettings, Segment
from packager.pipeline import StreamPipeline
from packager.segmenter import Segmenter
from tests.packager.packager_testing import FPS, Rung, Source, encode_source

WALL0 = 1_790_000_000.0
SETTINGS = PlaylistSettings(part_target=0.25, segment_target=1.0, dvr_window=600)
LADDER_RUNG = Rung("120p", 120, 150)
STARTED_AT_MS = int(WALL0 * 1000)


@functools.lru_cache(maxsize=8)
def encoded(width: int, height: int, seconds: int) -> Source:
    """The same source for every test that asks for it (encoding is the slow part)."""
    return encode_source(width, height, seconds)


@dataclass
class DiskRecording:
    recording: Recording
    publishes: list[Source]
    """What was fed, one ``Source`` per publish (a ``resize`` makes a second one)."""
    inits: dict[str, dict[int, bytes]] = field(default_factory=dict)
    """Per rendition, the init sections written, by their number in the recording."""

    def files(self, rendition: str) -> list[tuple[bytes, list[bytes]]]:
        """Per segment of ``rendition``, in order: (its init section, its bytes)."""
        directory = layout.rendition_dir(self.recording.directory, rendition)
        return [((directory / layout.init_name(e.init)).read_bytes(),
                 [(directory / e.file_name).read_bytes()])
                for e in self.recording.renditions[rendition].segments]


class _Writer:
    """The segment listener: numbers segments and init sections within the recording (as
    the recorder does) and writes each file once its segment is complete."""

    def __init__(self, directory: Path, is_audio: Callable[[str], bool]) -> None:
        self.directory = directory
        self.is_audio = is_audio
        self.renditions: dict[str, RenditionRecord] = {}
        self.inits: dict[str, dict[int, bytes]] = {}
        self._init_numbers: dict[tuple[str, bytes], int] = {}
        self._lock = threading.Lock()  # a ladder rung's segments come from its encoder thread

    def __call__(self, name: str, member: Segmenter, segment: Segment) -> None:
        with self._lock:
            self._write(name, member, segment)

    def _write(self, name: str, member: Segmenter, segment: Segment) -> None:
        folder = layout.rendition_dir(self.directory, name)
        folder.mkdir(parents=True, exist_ok=True)
        record = self.renditions.get(name)
        if record is None:
            width, height = member.resolution() or (0, 0)
            audio = self.is_audio(name)
            record = RenditionRecord(name, audio, member.codecs(), width, height,
                                     0.0 if audio else float(FPS))
            self.renditions[name] = record
        init = member.playlist.inits[segment.init]
        number = self._init_numbers.get((name, init))
        if number is None:
            number = len(self.inits.setdefault(name, {})) + 1
            self._init_numbers[(name, init)] = number
            self.inits[name][number] = init
            (folder / layout.init_name(number)).write_bytes(init)
        entry = SegmentEntry(len(record.segments) + 1, number, segment.duration,
                             segment.program_date_time, len(segment.data),
                             segment.discontinuity and bool(record.segments))
        (folder / entry.file_name).write_bytes(segment.data)
        with (folder / layout.JOURNAL).open("ab") as journal:
            journal.write(entry.to_line())
        record.segments.append(entry)
        if member.resolution() is not None:
            record.width, record.height = member.resolution() or (0, 0)


def record_to_disk(root: Path, *, seconds: int = 3, ladder: bool = False,
                   resize: tuple[int, int] | None = None, stream_id: str = "stream1",
                   recording_id: str | None = None, title: str = "Last night's show",
                   state: RecordingState = "complete", kind: RecordingKind = "broadcast",
                   width: int = 320, height: int = 240) -> DiskRecording:
    """Record ``seconds`` of a publish (and, with ``resize``, as many more of a second
    publish at that picture size: a new init section) into ``root``."""
    recording_id = recording_id or layout.new_recording_id()
    directory = layout.recording_dir(root, stream_id, recording_id)
    directory.mkdir(parents=True, exist_ok=True)
    pipeline = StreamPipeline(SETTINGS, lambda arrival: WALL0 + arrival,
                              ladder=[LADDER_RUNG] if ladder else [])
    writer = _Writer(directory, pipeline.renditions.is_audio)
    pipeline.renditions.add_segment_listener(writer)
    publishes = [encoded(width, height, seconds)]
    if resize is not None:
        publishes.append(encoded(resize[0], resize[1], seconds))
    arrived = 0.0
    for n, source in enumerate(publishes):
        if n:
            pipeline.encoders.flush()
            pipeline.publisher_changed()
        pipeline.track_changed(source.video)
        pipeline.track_changed(source.audio)
        # A publisher that comes back does so later: arrivals (the wall clock) go on.
        offset = arrived + (1 / FPS if n else 0.0)
        for frame in source.frames:
            pipeline.push(dataclasses.replace(frame, arrival=frame.arrival + offset))
            arrived = max(arrived, frame.arrival + offset)
    pipeline.end(flush=True)
    duration_ms = round(max((r.duration for r in writer.renditions.values()), default=0) * 1000)
    recording = Recording(recording_id, stream_id, kind,
                          title, STARTED_AT_MS, directory,
                          ended_at=STARTED_AT_MS + duration_ms if state != "recording" else None,
                          state=state)
    for name in sorted(writer.renditions, key=lambda n: (writer.renditions[n].audio, n)):
        rendition = writer.renditions[name]
        if "mp4a" in rendition.codecs:
            rendition.channels = publishes[0].audio.channels
        recording.renditions[name] = rendition
    (directory / layout.MANIFEST).write_bytes(recording.manifest())
    return DiskRecording(recording, publishes, writer.inits)


def write_recording(root: Path, *, seconds: int = 3, ladder: bool = False,
                    resize: tuple[int, int] | None = None, stream_id: str = "stream1",
                    state: RecordingState = "complete") -> Recording:
    """``record_to_disk(...).recording``."""
    return record_to_disk(root, seconds=seconds, ladder=ladder, resize=resize,
                          stream_id=stream_id, state=state).recording


def load(directory: Path) -> Recording:
    """The recording as read back from its manifest and journals (what the library does)."""
    recording = Recording.from_manifest((directory / layout.MANIFEST).read_bytes(), directory)
    for name, rendition in recording.renditions.items():
        journal = layout.rendition_dir(directory, name) / layout.JOURNAL
        rendition.segments = [SegmentEntry.from_line(line)
                              for line in journal.read_bytes().splitlines() if line]
    return recording
