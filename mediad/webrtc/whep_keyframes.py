"""Asking a stream's publisher for a keyframe, for a joining viewer or a browser's PLI/FIR.

Only a publisher that can be asked (a WHIP session, which sends the encoder a PLI) has
``request_keyframe``; RTMP and SRT encoders cannot be asked, and the last GOP kept by the
feed covers joins there. Requests are rate-limited per stream: a hundred viewers joining
at once, or browsers repeating their PLI, ask the encoder once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Final, Protocol, runtime_checkable

MIN_INTERVAL_SEC: Final = 1.0


@runtime_checkable
class KeyframeSource(Protocol):
    def request_keyframe(self) -> None:
        """Ask the encoder for a keyframe soon (never waits)."""


class KeyframeRequests:
    def __init__(self, sources: Callable[[], Iterable[object]], *,
                 min_interval_sec: float = MIN_INTERVAL_SEC,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``sources``: what may feed the stream now (those that can be asked are)."""
        self._sources = sources
        self.min_interval_sec = min_interval_sec
        self._clock = clock
        self._last: float | None = None
        self.sent = 0

    def request(self) -> bool:
        """Ask every source that can be asked, unless one was asked moments ago; True when
        one was asked now."""
        now = self._clock()
        if self._last is not None and now - self._last < self.min_interval_sec:
            return False
        asked = False
        for source in self._sources():
            if isinstance(source, KeyframeSource):
                source.request_keyframe()
                asked = True
        if asked:
            self._last = now
            self.sent += 1
        return asked
