"""A standby publisher's frames since its last keyframe, so that it can take a stream over
without the viewers waiting for its next one.

Bounded in frames and in bytes: a GOP that outgrows the caps is dropped whole (a GOP
without its keyframe cannot be decoded) and the warm start waits for the next keyframe.
Frames are kept as they arrived, ingest arrival stamps included: the packager places a
publish on the output timeline by its first frame's decode time and arrival.
"""

from __future__ import annotations

from typing import Final

from ingest.media import Frame

MAX_FRAMES: Final = 1000
"""Frames of every track kept: an 8 s GOP at 60 fps with its AAC audio fits."""
MAX_BYTES: Final = 32 << 20
"""Bytes kept: 8 s at 32 Mbit/s."""


class WarmGop:
    def __init__(self, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.overflows = 0
        """GOPs dropped for outgrowing the caps."""
        self.has_video = False
        """The publish has video (a video track announced or a video frame seen): only a
        video keyframe starts a GOP."""
        self._frames: list[Frame] = []
        self._bytes = 0

    @property
    def ready(self) -> bool:
        """Holds a GOP from its start: a takeover now plays at once."""
        return bool(self._frames)

    @property
    def frames(self) -> int:
        return len(self._frames)

    @property
    def bytes(self) -> int:
        return self._bytes

    def push(self, frame: Frame) -> bool:
        """Keeps ``frame``; True when it starts a GOP (a video keyframe, or any audio frame
        of a publish without video, the rule readers start by)."""
        size = len(frame.payload)
        if frame.is_video:
            self.has_video = True
        if frame.keyframe if frame.is_video else not self.has_video:
            self._frames = [frame]
            self._bytes = size
            return True
        if not self._frames:
            return False  # no keyframe yet (or the last GOP outgrew the caps)
        if len(self._frames) >= self.max_frames or self._bytes + size > self.max_bytes:
            self.overflows += 1
            self.clear()
            return False
        self._frames.append(frame)
        self._bytes += size
        return False

    def take(self) -> list[Frame]:
        """The GOP, oldest first; the warm start is empty afterwards."""
        frames = self._frames
        self.clear()
        return frames

    def clear(self) -> None:
        self._frames = []
        self._bytes = 0
