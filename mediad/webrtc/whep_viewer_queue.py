"""One WHEP viewer's bounded queue of units, read by its two tracks.

The feed never waits on a viewer: ``offer`` is synchronous. A viewer whose tracks fall
``capacity`` units behind loses what it had queued and its video skips to the next
keyframe (a decoder cannot skip a reference picture); audio goes on as long as there is
room. Each fall is counted, with the units it cost.

A viewer joins on its tracks' first pull (when ICE and DTLS have connected, not when the
offer came): ``join`` is called then, for the feed to hand it the current GOP at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Literal

from aiortc.mediastreams import MediaStreamError

from mediad.webrtc.whep_units import WhepUnit

Kind = Literal["video", "audio"]


class ViewerQueue:
    def __init__(self, capacity: int, join: Callable[[ViewerQueue], None]) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.joined = False
        self.closed = False
        self.falls = 0
        """Times this viewer fell behind and dropped to the next keyframe."""
        self.dropped_units = 0
        """Units lost to those falls (queued ones included)."""
        self.awaiting_keyframe = True
        self._join = join
        self._queues: dict[Kind, deque[WhepUnit]] = {"video": deque(), "audio": deque()}
        self._ready: dict[Kind, asyncio.Event] = {"video": asyncio.Event(),
                                                  "audio": asyncio.Event()}

    def __len__(self) -> int:
        return len(self._queues["video"]) + len(self._queues["audio"])

    def offer(self, unit: WhepUnit) -> None:
        if self.closed or not self.joined:
            return
        if len(self) >= self.capacity and self._queues["video"]:
            self._fall()
        if len(self) >= self.capacity:  # audio alone fills it: its tracks stopped pulling
            self.dropped_units += 1
            return
        if unit.kind == "video" and self.awaiting_keyframe:
            if not unit.keyframe:
                if self.falls:
                    self.dropped_units += 1
                return
            self.awaiting_keyframe = False
        self._queues[unit.kind].append(unit)
        self._ready[unit.kind].set()

    def prime(self, units: list[WhepUnit]) -> None:
        """A joining viewer's first units (the current GOP, from its keyframe)."""
        for unit in units:
            self._queues[unit.kind].append(unit)
            self._ready[unit.kind].set()
        if any(unit.kind == "video" for unit in units):
            self.awaiting_keyframe = False

    def _fall(self) -> None:
        self.falls += 1
        video = self._queues["video"]
        self.dropped_units += len(video)
        video.clear()
        self.awaiting_keyframe = True

    async def get(self, kind: Kind) -> WhepUnit:
        """The next unit of ``kind``; raises ``MediaStreamError`` once closed (which ends
        aiortc's sender for the track)."""
        if not self.joined:
            self.joined = True
            self._join(self)
        queue, ready = self._queues[kind], self._ready[kind]
        while not queue:
            if self.closed:
                raise MediaStreamError
            ready.clear()
            await ready.wait()
        if self.closed:
            raise MediaStreamError
        return queue.popleft()

    def close(self) -> None:
        self.closed = True
        for kind, queue in self._queues.items():
            queue.clear()
            self._ready[kind].set()
