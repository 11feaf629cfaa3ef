"""Events counted per key over an interval, for logs that say a flood once an interval
instead of once an event (``refusals.py``: a retrying encoder; ``cap_log.py``: a connection
flood).

The first event of a key is to be said at once (``hit`` answers True); the ones that follow
within ``interval`` are counted, with the addresses they came from, and ``due`` hands back
each interval that ended with events in it (the key is still busy: the next interval opens)
while a quiet one is forgotten, so the key's next event is said at once again. At most
``max_keys`` keys are held (past that, events go to the ``overflow`` key) and ``max_peers``
addresses per interval (past that, they count as ``OTHER_ADDRESSES``): a flood of distinct
keys or addresses costs bounded memory.

Sans clock: every call takes ``now`` (seconds, any monotonic origin), and ``next_due`` tells
the caller when to call ``due`` again (aioquic's ``get_timer`` pattern).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["OTHER_ADDRESSES", "Interval", "IntervalCounts"]

K = TypeVar("K", bound=Hashable)

OTHER_ADDRESSES = "other addresses"


@dataclass(slots=True)
class Interval:
    started: float
    count: int = 0
    """Events after the first, which was said at once."""
    peers: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    """How long it lasted, once ``due`` closed it."""


class IntervalCounts(Generic[K]):
    def __init__(self, overflow: K, interval: float = 10.0, *, max_keys: int = 1024,
                 max_peers: int = 1024) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.overflow = overflow
        self.max_keys = max_keys
        self.max_peers = max_peers
        self._open: dict[K, Interval] = {}

    def hit(self, key: K, peer: str, now: float) -> bool:
        """Count one event of ``key`` from ``peer``; True: the first, say it now."""
        interval = self._open.get(key)
        if interval is None:
            if len(self._open) < self.max_keys:
                self._open[key] = Interval(now)
                return True
            interval = self._open.setdefault(self.overflow, Interval(now))
        interval.count += 1
        if peer in interval.peers or len(interval.peers) < self.max_peers:
            interval.peers[peer] += 1
        else:
            interval.peers[OTHER_ADDRESSES] += 1
        return False

    def next_due(self) -> float | None:
        """When ``due`` has something to do, or None when nothing is open."""
        starts = [interval.started for interval in self._open.values()]
        return min(starts) + self.interval if starts else None

    def due(self, now: float) -> list[tuple[K, Interval]]:
        """The intervals that ended by ``now`` with events counted in them."""
        return self._close(now, ended_only=True)

    def flush(self, now: float) -> list[tuple[K, Interval]]:
        """Every open interval with events, ended or not; all are forgotten (at shutdown: no
        counted event goes unsaid)."""
        closed = self._close(now, ended_only=False)
        self._open.clear()
        return closed

    def _close(self, now: float, *, ended_only: bool) -> list[tuple[K, Interval]]:
        closed: list[tuple[K, Interval]] = []
        for key, interval in list(self._open.items()):
            if ended_only and now - interval.started < self.interval:
                continue
            if interval.count:
                interval.seconds = now - interval.started
                closed.append((key, interval))
                if key != self.overflow:
                    self._open[key] = Interval(now)
                    continue
            del self._open[key]
        return closed
