"""Connection caps that were hit, said once an interval per cap, with counts.

A flood hits a cap thousands of times a second, from one address or from many; a line per
hit would bury the log (and cost the CPU the flood is after), no line at all leaves the
operator guessing (issue 16). So the first hit of a cap is logged at once, the ones that
follow within ``interval`` are counted, and one summary per cap closes the interval: how
many, from how many addresses, and which address hit it most. A cap that went quiet for a
whole interval is forgotten, so its next hit is logged at once again.

The counting is ``interval_counts.py``'s, sans clock like it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.interval_counts import OTHER_ADDRESSES, Interval, IntervalCounts

__all__ = ["OTHER_ADDRESSES", "CapHits", "CapLog"]

OTHER_CAPS = "other"


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


class CapLog:
    def __init__(self, interval: float = 10.0, max_peers: int = 1024) -> None:
        self._counts: IntervalCounts[str] = IntervalCounts(OTHER_CAPS, interval,
                                                           max_peers=max_peers)

    @property
    def interval(self) -> float:
        return self._counts.interval

    def hit(self, cap: str, peer: str, now: float) -> bool:
        """Count a hit of ``cap`` by ``peer`` (a host); True: log this one now."""
        return self._counts.hit(cap, peer, now)

    def next_due(self) -> float | None:
        """When ``due`` has something to do, or None when no cap was hit lately."""
        return self._counts.next_due()

    def due(self, now: float) -> list[CapHits]:
        """Summaries of the intervals that ended by ``now``; a cap still being hit opens the
        next interval, a quiet one is forgotten."""
        return [_hits(cap, counted) for cap, counted in self._counts.due(now)]

    def flush(self, now: float) -> list[CapHits]:
        """Summaries of every open interval, and forget them (at shutdown)."""
        return [_hits(cap, counted) for cap, counted in self._counts.flush(now)]


def _hits(cap: str, counted: Interval) -> CapHits:
    top, top_count = counted.peers.most_common(1)[0]
    return CapHits(cap, counted.count, len(counted.peers), top, top_count, counted.seconds)
