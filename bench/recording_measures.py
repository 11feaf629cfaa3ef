"""What ``bench/recording.py`` reads off a running daemon and its recording: part latency
from the daemon's publication log and a viewer process's receipts, one named thread's CPU,
bytes on disk, and the recording's files as one fMP4 per rendition for ffmpeg."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mediad.recording.layout import JOURNAL, MANIFEST, init_name
from mediad.recording.model import Recording, RenditionRecord, SegmentEntry

Receipt = tuple[int, int, float]
"""(msn, part index, when a viewer's blocking request listing it was answered)."""


def part_latencies_ms(publications: Path, received: Iterable[Receipt]) -> list[float]:
    """Per receipt: from its part's first frame arriving at ingest to the viewer's answer.

    The daemon logs every playlist it made; the one the viewers watched is the one that
    matches most of what they received."""
    playlists = json.loads(publications.read_text())["playlists"]
    receipts = list(received)
    arrivals: dict[tuple[int, int], float] = {}
    best = -1
    for playlist in playlists:
        first = {(msn, index): first for msn, index, _, first, _ in playlist}
        matched = sum(1 for msn, index, _ in receipts if (msn, index) in first)
        if matched > best:
            best, arrivals = matched, first
    return [(at - arrivals[(msn, index)]) * 1000 for msn, index, at in receipts
            if (msn, index) in arrivals]


def thread_cpu_ns(pid: int, prefix: str) -> dict[int, int]:
    """CPU nanoseconds of each thread of ``pid`` whose OS name starts with ``prefix``."""
    found: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip().startswith(prefix):
                found[int(task.name)] = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended between listing and reading
    return found


@dataclass
class ThreadMeter:
    """CPU seconds of the named threads between ``start()`` and ``stop()`` (a thread that
    starts in between counts from zero)."""

    pid: int
    prefix: str
    _start: dict[int, int] | None = None
    seconds: float = 0.0
    threads: int = 0

    def start(self) -> ThreadMeter:
        self._start = thread_cpu_ns(self.pid, self.prefix)
        return self

    def stop(self) -> float:
        assert self._start is not None
        now = thread_cpu_ns(self.pid, self.prefix)
        ended = sum(ns for tid, ns in self._start.items() if tid not in now)
        if ended:
            raise RuntimeError(f"a {self.prefix!r} thread ended while metered")
        self.threads = len(now)
        self.seconds = sum(ns - self._start.get(tid, 0) for tid, ns in now.items()) / 1e9
        return self.seconds


def bytes_under(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def load_recording(directory: Path) -> Recording:
    """A recording as its manifest and journals on disk describe it."""
    recording = Recording.from_manifest((directory / MANIFEST).read_bytes(), directory)
    for name, rendition in recording.renditions.items():
        journal = directory / name / JOURNAL
        if journal.exists():
            rendition.segments = [SegmentEntry.from_line(line)
                                  for line in journal.read_bytes().splitlines() if line]
    return recording


def concatenate(directory: Path, rendition: RenditionRecord, out: Path) -> Path:
    """The rendition as one fragmented MP4: its init section, then every segment in order
    (what a player appends to its source buffer)."""
    if len(rendition.inits) != 1:
        raise ValueError(f"{rendition.name} has {len(rendition.inits)} init sections; "
                         "one fMP4 file can hold only one")
    folder = directory / rendition.name
    with out.open("wb") as file:
        file.write((folder / init_name(rendition.inits[0])).read_bytes())
        for entry in rendition.segments:
            file.write((folder / entry.file_name).read_bytes())
    return out


def remux_inputs(recording: Recording, work: Path) -> list[Path]:
    """ffmpeg's inputs for what ``download.mp4`` serves by default: the tallest video
    rendition, and the audio rendition where audio is not muxed into it."""
    videos = recording.video_renditions()
    if not videos:
        raise ValueError("the recording has no video rendition")
    inputs = [concatenate(recording.directory, videos[0], work / f"{videos[0].name}.mp4")]
    audio = recording.audio_rendition()
    if audio is not None:
        inputs.append(concatenate(recording.directory, audio, work / f"{audio.name}.mp4"))
    return inputs
