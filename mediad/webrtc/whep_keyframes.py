"""Asking a stream's publisher for a keyframe, for a joining viewer or a browser's PLI/FIR.

Only a publisher that can be asked has a ``request_keyframe`` (a WHIP session sets it on
its ``Publisher``: it sends the encoder a PLI); RTMP and SRT encoders cannot be asked, and
the GOP kept by the feed covers joins there. Requests are rate-limited per stream: a
hundred viewers joining at once, or browsers repeating their PLI, ask the encoder once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Final

MIN_INTERVAL_SEC: Final = 1.0

Ask = Callable[[], None]


def asker_of(publisher: object) -> Ask | None:
    """The publisher's ``request_keyframe`` when it has one set (an optional capability)."""
    ask = getattr(publisher, "request_keyframe", None)
    return ask if callable(ask) else None


class KeyframeRequests:
    def __init__(self, sources: Callable[[], Iterable[object]], *,
                 min_interval_sec: float = MIN_INTERVAL_SEC,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``sources``: the publishers feeding the stream now (those that can be asked
        are)."""
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
        asks = [ask for ask in map(asker_of, self._sources()) if ask is not None]
        for ask in asks:
            ask()
        if asks:
            self._last = now
            self.sent += 1
        return bool(asks)
