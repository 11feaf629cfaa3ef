"""The viewer counts service: what sockets, polls and players tell it, counted once per
viewer (``viewers.py``); every second this process's counts go on the bus and the totals
that changed go to this process's clients."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from mediad.background import Periodic
from mediad.clock import iso_utc, now_ms
from mediad.realtime import messages as m
from mediad.realtime.hub import Hub
from mediad.realtime.recorder import Recorder
from mediad.realtime.viewers import REPORT, ViewerTracker

log = logging.getLogger("mediad.realtime")

ANNOUNCE_EVERY_SEC = 1.0


class ViewerCounts:
    def __init__(self, instance_id: str, recorder: Recorder, hub: Hub, *,
                 clock: Callable[[], float] = time.monotonic,
                 announce_every_sec: float = ANNOUNCE_EVERY_SEC) -> None:
        self._tracker = ViewerTracker(instance_id)
        self._recorder = recorder
        self._hub = hub
        self._clock = clock
        self._announcer = Periodic(self.announce, announce_every_sec, log=log,
                                   failure="viewer count failed")

    async def start(self) -> None:
        self._announcer.start()

    async def stop(self) -> None:
        await self._announcer.stop()

    # -- what viewers do ---------------------------------------------------------------

    def socket_opened(self, stream_id: str, key: str) -> None:
        self._tracker.socket_opened(stream_id, key)

    def socket_closed(self, stream_id: str, key: str) -> None:
        self._tracker.socket_closed(stream_id, key)

    def seen(self, stream_id: str, key: str, *, player: bool = False) -> None:
        """A poll or (``player``) a playlist request from the viewer ``key``."""
        self._tracker.seen(stream_id, key, self._clock(), player=player)

    # -- the counts --------------------------------------------------------------------

    def local_count(self, stream_id: str) -> int:
        """The stream's viewers on this process."""
        return self._tracker.local_count(stream_id, self._clock())

    def players(self, stream_id: str) -> int:
        """The stream's LL-HLS players on this process (within a second: expired ones
        are dropped as the counts are announced)."""
        return self._tracker.player_count(stream_id)

    def total(self, stream_id: str) -> int:
        """The stream's viewers on every process, as last reported."""
        return self._tracker.total(stream_id, self._clock())

    def message(self, stream_id: str) -> m.Message:
        return _viewers_message(self.total(stream_id))

    def report_received(self, stream_id: str, report: m.Message) -> None:
        """A process's count of one stream, from the bus (this process's own included)."""
        instance, count = report.get("instance"), report.get("count")
        if isinstance(instance, str) and isinstance(count, int):
            self._tracker.report_received(stream_id, instance, count, self._clock())

    async def announce(self) -> None:
        """Report this process's counts on the bus; tell clients the totals that changed."""
        for stream_id, count in self._tracker.reports_due(self._clock()):
            await self._recorder.broadcast(stream_id, {
                "type": REPORT, "instance": self._tracker.instance_id, "count": count})
        for stream_id, total in self._tracker.changed_totals(self._clock()):
            self._hub.deliver(stream_id, _viewers_message(total))


def _viewers_message(count: int) -> m.Message:
    return {"type": m.VIEWERS, "count": count, "at": iso_utc(now_ms())}
