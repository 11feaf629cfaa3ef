"""What a recording is: its manifest (``recording.json``) and, per rendition, the journal of
the segments written (``segments.jsonl``, one JSON line per segment, appended once the
segment's file is complete). A broadcast recording and a clip are the same thing on disk;
``kind`` tells them apart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RecordingKind = Literal["broadcast", "clip"]
RecordingState = Literal["recording", "complete", "stopped"]
"""``stopped``: the disk failed (full, or an I/O error) and the recording ended there."""

MANIFEST_VERSION = 1


class ManifestError(ValueError):
    """A manifest or journal line that cannot be read."""


@dataclass(frozen=True, slots=True)
class SegmentEntry:
    """One segment on disk: ``seg{number}.m4s``, needing ``init{init}.mp4``."""

    number: int
    init: int
    duration: float
    start: float
    """Program date time of its first sample (Unix seconds)."""
    size: int
    discontinuity: bool = False
    """A new timeline starts here (a publisher came back, segments were skipped)."""

    @property
    def file_name(self) -> str:
        return f"seg{self.number}.m4s"

    @property
    def end(self) -> float:
        return self.start + self.duration

    def to_line(self) -> bytes:
        return json.dumps({"n": self.number, "init": self.init, "duration": self.duration,
                           "start": self.start, "size": self.size,
                           "discontinuity": self.discontinuity},
                          separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> SegmentEntry:
        try:
            raw = json.loads(line)
            entry = cls(_int(raw["n"]), _int(raw["init"]), float(raw["duration"]),
                        float(raw["start"]), _int(raw["size"]), bool(raw["discontinuity"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"bad journal line: {exc}") from None
        if entry.number < 1 or entry.init < 1 or entry.size < 0 or not entry.duration >= 0:
            raise ManifestError("bad journal line: out of range")
        return entry


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an integer: {value!r}")
    return value


@dataclass(slots=True)
class RenditionRecord:
    """One recorded rendition: how the multivariant playlist describes it, and its files."""

    name: str
    audio: bool
    """Audio only (the AUDIO group of the video renditions)."""
    codecs: str
    width: int = 0
    height: int = 0
    frame_rate: float = 0.0
    channels: int = 0
    segments: list[SegmentEntry] = field(default_factory=list)
    """What the journal lists, in order."""

    @property
    def duration(self) -> float:
        return sum(entry.duration for entry in self.segments)

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.segments)

    @property
    def inits(self) -> list[int]:
        return sorted({entry.init for entry in self.segments})

    @property
    def peak_bps(self) -> int:
        return max((round(e.size * 8 / e.duration) for e in self.segments if e.duration > 0),
                   default=0)

    @property
    def average_bps(self) -> int:
        duration = self.duration
        return round(self.size * 8 / duration) if duration > 0 else 0

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "audio": self.audio, "codecs": self.codecs,
                "width": self.width, "height": self.height, "frame_rate": self.frame_rate,
                "channels": self.channels}

    def take_description(self, other: RenditionRecord) -> None:
        """``other``'s description (codecs, picture, rate), this record's segments."""
        self.audio, self.codecs = other.audio, other.codecs
        self.width, self.height = other.width, other.height
        self.frame_rate, self.channels = other.frame_rate, other.channels

    @classmethod
    def described(cls, raw: Any) -> RenditionRecord:
        try:
            return cls(str(raw["name"]), bool(raw["audio"]), str(raw["codecs"]),
                       _int(raw["width"]), _int(raw["height"]), float(raw["frame_rate"]),
                       _int(raw["channels"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"bad rendition: {exc}") from None


@dataclass(slots=True)
class Recording:
    """A broadcast recording or a clip, as the library holds it (on the event loop)."""

    id: str
    stream_id: str
    kind: RecordingKind
    title: str
    started_at: int
    """ms since the epoch (UTC)."""
    directory: Path
    ended_at: int | None = None
    state: RecordingState = "recording"
    interrupted: bool = False
    """The daemon stopped (a crash, ``kill -9``) while it was recording: closed at the next
    start with what was complete."""
    stop_reason: str = ""
    created_by: str | None = None
    """The handle of who cut a clip."""
    created_by_id: int | None = None
    skipped_segments: int = 0
    """Segments the disk could not keep up with (left out, a discontinuity in their place)."""
    renditions: dict[str, RenditionRecord] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.state != "recording"

    @property
    def duration(self) -> float:
        return max((r.duration for r in self.renditions.values()), default=0.0)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.renditions.values())

    def video_renditions(self) -> list[RenditionRecord]:
        """Video renditions with segments, the tallest first."""
        found = [r for r in self.renditions.values() if not r.audio and r.segments]
        return sorted(found, key=lambda r: -r.height)

    def audio_rendition(self) -> RenditionRecord | None:
        return next((r for r in self.renditions.values() if r.audio and r.segments), None)

    def manifest(self) -> bytes:
        return json.dumps({
            "version": MANIFEST_VERSION, "id": self.id, "stream_id": self.stream_id,
            "kind": self.kind, "title": self.title, "started_at": self.started_at,
            "ended_at": self.ended_at, "state": self.state, "interrupted": self.interrupted,
            "stop_reason": self.stop_reason, "created_by": self.created_by,
            "created_by_id": self.created_by_id, "skipped_segments": self.skipped_segments,
            "renditions": [r.describe() for r in self.renditions.values()],
        }, indent=1).encode()

    @classmethod
    def from_manifest(cls, data: bytes, directory: Path) -> Recording:
        """The recording a manifest describes, without its segments (the journals have
        them)."""
        try:
            raw = json.loads(data)
            if raw.get("version") != MANIFEST_VERSION:
                raise ManifestError(f"unknown manifest version {raw.get('version')!r}")
            kind = raw["kind"]
            state = raw["state"]
            if kind not in ("broadcast", "clip") or state not in (
                    "recording", "complete", "stopped"):
                raise ManifestError("bad kind or state")
            ended = raw["ended_at"]
            by_id = raw.get("created_by_id")
            recording = cls(
                str(raw["id"]), str(raw["stream_id"]), kind, str(raw["title"]),
                _int(raw["started_at"]), directory,
                None if ended is None else _int(ended), state, bool(raw["interrupted"]),
                str(raw["stop_reason"]), raw.get("created_by"),
                None if by_id is None else _int(by_id), _int(raw["skipped_segments"]))
            for described in raw["renditions"]:
                rendition = RenditionRecord.described(described)
                recording.renditions[rendition.name] = rendition
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"bad manifest: {exc!r}") from None
        return recording
