"""Bounded fan-out from one live stream to its readers (packager rungs, recorders).

The publisher never waits: ``offer`` is synchronous. A reader that falls behind loses whole
GOPs: once its queue is full it skips everything up to the next video keyframe (never a
reference frame in the middle of a GOP), and counts what it skipped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from ingest.media import Frame, TrackInfo


@dataclass(frozen=True, slots=True)
class TrackChange:
    """A track was announced or its codec configuration changed."""

    track: TrackInfo


@dataclass(frozen=True, slots=True)
class Discontinuity:
    """A different publisher now feeds the stream (backup takeover); timestamps restart."""

    reason: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    reason: str
    final: bool = False
    """The creator ended the broadcast (rather than the publisher going away)."""


ReaderItem = Frame | TrackChange | Discontinuity | StreamEnd


class Reader:
    def __init__(self, name: str, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.name = name
        self.capacity = capacity
        self.dropped_frames = 0
        """Frames lost because this reader fell behind (the health metric)."""
        self.skipped_before_start = 0
        """Frames before the first keyframe this reader could start at: not a loss."""
        self._started = False
        self._items: deque[ReaderItem] = deque()
        self._frames = 0
        self._wakeup = asyncio.Event()
        # A new reader starts at a keyframe, exactly like one that has just dropped.
        self._skipping = True
        self._has_video = False
        self.closed = False

    def offer(self, item: ReaderItem) -> None:
        if self.closed:
            return
        if isinstance(item, Frame):
            if not self._accept(item):
                if self._started:
                    self.dropped_frames += 1
                else:
                    self.skipped_before_start += 1
                return
            self._started = True
            self._frames += 1
        else:
            if isinstance(item, TrackChange) and item.track.kind == "video":
                self._has_video = True
            elif isinstance(item, Discontinuity):
                self._skipping = True
        self._items.append(item)
        self._wakeup.set()

    def _accept(self, frame: Frame) -> bool:
        starts_gop = frame.keyframe if frame.is_video else not self._has_video
        if self._skipping:
            if not starts_gop or self._frames >= self.capacity:
                return False
            self._skipping = False
            return True
        if self._frames >= self.capacity:
            self._skipping = True
            return False
        return True

    def pending(self) -> int:
        return len(self._items)

    def get_nowait(self) -> ReaderItem | None:
        if not self._items:
            return None
        item = self._items.popleft()
        if isinstance(item, Frame):
            self._frames -= 1
        return item

    async def get(self) -> ReaderItem:
        """The next item; after ``StreamEnd`` the reader is closed and this raises EOFError."""
        while True:
            item = self.get_nowait()
            if item is not None:
                return item
            if self.closed:
                raise EOFError(self.name)
            self._wakeup.clear()
            await self._wakeup.wait()

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()


class ReaderSink(Protocol):
    """What a reader's consumer does with each item (``drain``)."""

    def frame(self, frame: Frame) -> None: ...
    def track_changed(self, track: TrackInfo) -> None: ...
    def discontinuity(self) -> None: ...


async def drain(reader: Reader, sink: ReaderSink) -> StreamEnd | None:
    """Hands each item of ``reader`` to ``sink`` until the publish ends (its ``StreamEnd``
    is returned) or the reader is closed (None)."""
    while True:
        try:
            item = await reader.get()
        except EOFError:
            return None
        if isinstance(item, Frame):
            sink.frame(item)
        elif isinstance(item, TrackChange):
            sink.track_changed(item.track)
        elif isinstance(item, Discontinuity):
            sink.discontinuity()
        else:
            return item
