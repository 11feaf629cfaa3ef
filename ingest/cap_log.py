"""Connection caps that were hit, said once an interval per cap, with counts.

A flood hits a cap thousands of times a second, from one address or from many; a line per
hit would bury the log (and cost the CPU the flood is after), no line at all leaves the
operator guessing (issue 16). So the first hit of a cap is logged at once, the ones that
follow within ``interval`` are counted, and one summary per cap closes the interval: how
many, from how many addresses, and which address hit it most. A cap that went quiet for a
whole interval is forgotten, so its next hit is logged at once again.

Sans clock, like ``ingest.refusals``: every call takes ``now`` (monotonic seconds).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["CapHits", "CapLog"]

OTHER_ADDRESSES = "other addresses"
"""Where hits past ``max_peers`` distinct addresses in one interval are counted."""


@dataclass(frozen=True, slots=True)
class CapHits:
    """The hits of one cap counted, not logged, during one interval."""

    cap: str
    count: int
    addresses: int
    top_address: str
    top_count: int
    seconds: float

    def describe(self) -> str:
        many = "time" if self.count == 1 else "times"
        where = "address" if self.addresses == 1 else "addresses"
        return (f"{self.cap} cap hit {self.count} more {many} in the last {self.seconds:.0f} s "
                f"from {self.addresses} {where} (most from {self.top_address}: "
                f"{self.top_count})")


@dataclass(slots=True)
class _Window:
    started: float
    peers: Counter[str] = field(default_factory=Counter)
    count: int = 0


class CapLog:
    def __init__(self, interval: float = 10.0, max_peers: int = 1024) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.max_peers = max_peers
        self._windows: dict[str, _Window] = {}

    def hit(self, cap: str, peer: str, now: float) -> bool:
        """Count a hit of ``cap`` by ``peer`` (a host); True: log this one now."""
        window = self._windows.get(cap)
        if window is None:
            self._windows[cap] = _Window(now)
            return True
        window.count += 1
        if peer in window.peers or len(window.peers) < self.max_peers:
            window.peers[peer] += 1
        else:
            window.peers[OTHER_ADDRESSES] += 1
        return False

    def next_due(self) -> float | None:
        """When ``due`` has something to do, or None when no cap was hit lately."""
        starts = [window.started for window in self._windows.values()]
        return min(starts) + self.interval if starts else None

    def due(self, now: float) -> list[CapHits]:
        """Summaries of the intervals that ended by ``now``; a cap still being hit opens the
        next interval, a quiet one is forgotten."""
        return self._summaries(now, ended_only=True)

    def flush(self, now: float) -> list[CapHits]:
        """Summaries of every open interval, and forget them (at shutdown)."""
        lines = self._summaries(now, ended_only=False)
        self._windows.clear()
        return lines

    def _summaries(self, now: float, *, ended_only: bool) -> list[CapHits]:
        lines: list[CapHits] = []
        for cap, window in list(self._windows.items()):
            if ended_only and now - window.started < self.interval:
                continue
            if window.count:
                top, top_count = window.peers.most_common(1)[0]
                lines.append(CapHits(cap, window.count, len(window.peers), top, top_count,
                                     now - window.started))
                self._windows[cap] = _Window(now)
            else:
                del self._windows[cap]
        return lines
