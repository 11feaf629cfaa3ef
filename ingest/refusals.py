"""Repeated refusals of one peer, said once an interval instead of once a retry.

A refused encoder retries: srt-live-transmit ten times a second, OBS every few seconds, for
as long as it runs. Logging each refusal buries every other line, so the ingest servers pass
their refusals through ``RefusalLog``: the first refusal of a peer for a reason is logged at
once; the ones that follow within ``interval`` are counted and summed up in one line when
the interval is over ("N more refusals from PEER in the last M s"). A peer that stopped
retrying is forgotten after one quiet interval, so its next refusal is logged at once again.

Peers are their host: a retrying caller comes from a new port each time. The counting is
``interval_counts.py``'s, sans clock like it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.interval_counts import IntervalCounts

__all__ = ["RefusalLog", "RepeatedRefusals"]

OTHER_PEERS = "other peers"
"""The ``peer`` of the summary that counts refusals past ``max_peers``."""


@dataclass(frozen=True, slots=True)
class RepeatedRefusals:
    """Refusals counted, not logged, during one interval."""

    peer: str
    reason: str
    count: int
    seconds: float
    """How long the interval was: from its first refusal to its summary."""

    def describe(self) -> str:
        many = "refusal" if self.count == 1 else "refusals"
        return (f"{self.count} more {many} from {self.peer} in the last "
                f"{self.seconds:.0f} s: {self.reason}")


class RefusalLog:
    def __init__(self, interval: float = 10.0, max_peers: int = 1024) -> None:
        self._counts: IntervalCounts[tuple[str, str]] = IntervalCounts(
            (OTHER_PEERS, "various reasons"), interval, max_keys=max_peers, max_peers=1)

    @property
    def interval(self) -> float:
        return self._counts.interval

    def refused(self, peer: str, reason: str, now: float) -> bool:
        """Count one refusal of ``peer`` (a host) for ``reason``; True: log this one now."""
        return self._counts.hit((peer, reason), peer, now)

    def next_due(self) -> float | None:
        """When ``due`` has something to do (a window ends), or None when nothing is open."""
        return self._counts.next_due()

    def due(self, now: float) -> list[RepeatedRefusals]:
        """Summaries of the windows that ended by ``now``. A window with refusals in it opens
        the next one (the peer is still retrying); a quiet one is closed."""
        return [RepeatedRefusals(peer, reason, counted.count, counted.seconds)
                for (peer, reason), counted in self._counts.due(now)]

    def flush(self, now: float) -> list[RepeatedRefusals]:
        """Summaries of every open window, ended or not, and forget them all (at shutdown:
        no counted refusal goes unsaid)."""
        return [RepeatedRefusals(peer, reason, counted.count, counted.seconds)
                for (peer, reason), counted in self._counts.flush(now)]
