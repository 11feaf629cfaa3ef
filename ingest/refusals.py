"""Repeated refusals of one peer, said once an interval instead of once a retry.

A refused encoder retries: srt-live-transmit ten times a second, OBS every few seconds, for
as long as it runs. Logging each refusal buries every other line, so the ingest servers pass
their refusals through ``RefusalLog``: the first refusal of a peer for a reason is logged at
once; the ones that follow within ``interval`` are counted and summed up in one line when
the interval is over ("N more refusals from PEER in the last M s"). A peer that stopped
retrying is forgotten after one quiet interval, so its next refusal is logged at once again.

Peers are their host: a retrying caller comes from a new port each time. Sans clock: every
call takes ``now`` (seconds, any monotonic origin), and ``next_due`` tells the caller when to
call ``due`` again (aioquic's ``get_timer`` pattern).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(slots=True)
class _Window:
    started: float
    suppressed: int = 0


class RefusalLog:
    def __init__(self, interval: float = 10.0, max_peers: int = 1024) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.max_peers = max_peers
        self._windows: dict[tuple[str, str], _Window] = {}
        self._overflow: _Window | None = None

    def refused(self, peer: str, reason: str, now: float) -> bool:
        """Count one refusal of ``peer`` (a host) for ``reason``; True: log this one now."""
        window = self._windows.get((peer, reason))
        if window is not None:
            window.suppressed += 1
            return False
        if len(self._windows) >= self.max_peers:
            # A flood of distinct peers or reasons: counted together, never a line each.
            if self._overflow is None:
                self._overflow = _Window(now)
            self._overflow.suppressed += 1
            return False
        self._windows[(peer, reason)] = _Window(now)
        return True

    def next_due(self) -> float | None:
        """When ``due`` has something to do (a window ends), or None when nothing is open."""
        starts = [w.started for w in self._windows.values()]
        if self._overflow is not None:
            starts.append(self._overflow.started)
        return min(starts) + self.interval if starts else None

    def due(self, now: float) -> list[RepeatedRefusals]:
        """Summaries of the windows that ended by ``now``. A window with refusals in it opens
        the next one (the peer is still retrying); a quiet one is closed."""
        return self._summaries(now, ended_only=True)

    def flush(self, now: float) -> list[RepeatedRefusals]:
        """Summaries of every open window, ended or not, and forget them all (at shutdown:
        no counted refusal goes unsaid)."""
        lines = self._summaries(now, ended_only=False)
        self._windows.clear()
        return lines

    def _summaries(self, now: float, *, ended_only: bool) -> list[RepeatedRefusals]:
        lines: list[RepeatedRefusals] = []
        for key, window in list(self._windows.items()):
            if ended_only and now - window.started < self.interval:
                continue
            if window.suppressed:
                lines.append(RepeatedRefusals(key[0], key[1], window.suppressed,
                                              now - window.started))
                self._windows[key] = _Window(now)
            else:
                del self._windows[key]
        overflow = self._overflow
        if overflow is not None and (not ended_only or now - overflow.started >= self.interval):
            lines.append(RepeatedRefusals(OTHER_PEERS, "various reasons", overflow.suppressed,
                                          now - overflow.started))
            self._overflow = None
        return lines
