"""Viewer counts: open WebSockets, polling clients and LL-HLS players, one count per viewer.

A viewer is keyed by their chat identity (account or guest cookie) when the request
carries it, else by address and user agent: a tab with both the player and the chat open
counts once. Polling clients and players count while seen within ``ttl`` seconds. Each
process reports its own counts on the bus; every process adds up the fresh reports, so
viewers behind a load balancer are counted wherever they landed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

REPORT = "viewers.report"
"""Bus-internal: one process's count of one stream (never sent to clients)."""


@dataclass(slots=True)
class _StreamViewers:
    sockets: Counter[str] = field(default_factory=Counter)
    seen: dict[str, float] = field(default_factory=dict)
    players: dict[str, float] = field(default_factory=dict)
    """The keys of ``seen`` that came from LL-HLS playback (not from polling)."""
    reported: int = -1
    reported_at: float = 0.0


class ViewerTracker:
    def __init__(self, instance_id: str, *, ttl: float = 15.0, report_every: float = 5.0,
                 report_ttl: float = 12.0) -> None:
        self.instance_id = instance_id
        self.ttl = ttl
        self.report_every = report_every
        self.report_ttl = report_ttl
        self._local: dict[str, _StreamViewers] = {}
        self._reports: dict[str, dict[str, tuple[int, float]]] = {}
        self.announced: dict[str, int] = {}
        """The last total broadcast to clients, per stream."""

    def _stream(self, stream_id: str) -> _StreamViewers:
        found = self._local.get(stream_id)
        if found is None:
            found = self._local[stream_id] = _StreamViewers()
        return found

    def socket_opened(self, stream_id: str, key: str) -> None:
        self._stream(stream_id).sockets[key] += 1

    def socket_closed(self, stream_id: str, key: str) -> None:
        viewers = self._stream(stream_id)
        viewers.sockets[key] -= 1
        if viewers.sockets[key] <= 0:
            del viewers.sockets[key]

    def seen(self, stream_id: str, key: str, now: float, *, player: bool = False) -> None:
        """A poll or (``player``) a playlist request from this viewer."""
        viewers = self._stream(stream_id)
        viewers.seen[key] = now
        if player:
            viewers.players[key] = now

    def player_count(self, stream_id: str) -> int:
        """LL-HLS players seen within ``ttl`` as of the last ``local_count`` (which
        ``reports_due`` runs for every stream each announcement)."""
        viewers = self._local.get(stream_id)
        return 0 if viewers is None else len(viewers.players)

    def local_count(self, stream_id: str, now: float) -> int:
        viewers = self._local.get(stream_id)
        if viewers is None:
            return 0
        expired = [k for k, at in viewers.seen.items() if now - at > self.ttl]
        for key in expired:
            del viewers.seen[key]
            viewers.players.pop(key, None)
        return len(viewers.sockets.keys() | viewers.seen.keys())

    def reports_due(self, now: float) -> list[tuple[str, int]]:
        """(stream, local count) to put on the bus: changed, or a heartbeat so that other
        processes keep counting them."""
        due = []
        for stream_id, viewers in list(self._local.items()):
            count = self.local_count(stream_id, now)
            if count != viewers.reported or now - viewers.reported_at >= self.report_every:
                if count == 0 and viewers.reported == 0:
                    del self._local[stream_id]  # reported gone once: forget the stream
                    continue
                viewers.reported, viewers.reported_at = count, now
                due.append((stream_id, count))
        return due

    def report_received(self, stream_id: str, instance: str, count: int, now: float) -> None:
        self._reports.setdefault(stream_id, {})[instance] = (count, now)

    def total(self, stream_id: str, now: float) -> int:
        reports = self._reports.get(stream_id, {})
        for instance, (_, at) in list(reports.items()):
            if now - at > self.report_ttl:
                del reports[instance]
        return sum(count for count, _ in reports.values())

    def changed_totals(self, now: float) -> list[tuple[str, int]]:
        """Streams whose total differs from what clients were last told."""
        changed = []
        for stream_id in list(self._reports):
            total = self.total(stream_id, now)
            if total != self.announced.get(stream_id, 0):
                self.announced[stream_id] = total
                changed.append((stream_id, total))
            if not self._reports[stream_id]:
                del self._reports[stream_id]
                self.announced.pop(stream_id, None)
        return changed



def viewer_key(browser: str | None, remote: str | None, user_agent: str) -> str:
    """One viewer: their browser's guest cookie id, else their address and user agent."""
    if browser:
        return "b:" + browser
    digest = hashlib.blake2b(f"{remote}|{user_agent}".encode(), digest_size=8).hexdigest()
    return "a:" + digest
