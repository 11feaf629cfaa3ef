"""What players say of their playback, per stream and per player session: from the CMCD
of their HLS requests (``cmcd.py``) and from their reports (``POST
/api/streams/{id}/metrics``).

Behind a caching edge the origin sees CMCD only on cache misses, so a player's own reports
are what counts its stalls and viewing time: once a session has reported, its CMCD no longer
adds to them (no stall is counted twice); before that (another player, one that only sends
CMCD), a ``bs`` request is a stall and the time between its requests, up to
``MAX_REQUEST_GAP_SEC``, viewing time.

Bounded: a session is kept while it was heard from in the last ``active_sec`` (so the
sessions held are the active ones), at most ``max_sessions`` per stream and
``max_total_sessions`` in all (the stream's longest silent goes first; a stream holding none
while the total is full gets no new one), and ``max_streams`` streams (the quietest goes).
The medians are read from log-spaced tallies kept up to date as sessions change, so reading
them is O(buckets), never a sort of the sessions. An ended stream is forgotten (``prune``,
every few seconds and at each scrape), so a new broadcast starts from nothing.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import Histogram

from mediad.metrics.cmcd import Cmcd
from mediad.metrics.registry import EVENTS

MAX_REQUEST_GAP_SEC = 10.0
"""CMCD only: a longer silence between two requests of a session is not viewing time."""

MAX_RENDITION_NAMES = 16
"""Rendition names a stream's mix holds; a report may name any (up to 32 characters), so
past these a new name counts as ``OTHER_RENDITION`` and the mix's labels stay bounded."""
OTHER_RENDITION = "other"

STARTUP = Histogram("mediad_player_startup_seconds",
                    "Players' time from starting playback to the first frame.",
                    buckets=(0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30),
                    registry=EVENTS)
LATENCY = Histogram("mediad_player_latency_seconds",
                    "Players' distance behind the live edge, as they report it.",
                    buckets=(0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 15, 20, 30, 60),
                    registry=EVENTS)

_RATIO = math.log(1.05)  # tally buckets 5 % apart: the median is within 2.5 %
_ZERO = -(10**6)


class LogTally:
    """A multiset of non-negative numbers kept as counts per 5 %-wide bucket."""

    def __init__(self) -> None:
        self._counts: Counter[int] = Counter()
        self.total = 0

    @staticmethod
    def bucket(value: float) -> int:
        return _ZERO if value <= 0 else round(math.log(value) / _RATIO)

    def add(self, bucket: int) -> None:
        self._counts[bucket] += 1
        self.total += 1

    def remove(self, bucket: int) -> None:
        self._counts[bucket] -= 1
        if self._counts[bucket] <= 0:
            del self._counts[bucket]
        self.total -= 1

    def median(self) -> float | None:
        """The middle value (the lower middle of an even count), to the bucket's centre."""
        if self.total <= 0:
            return None
        rank = (self.total - 1) // 2
        for bucket in sorted(self._counts):  # distinct buckets (a few hundred at most)
            rank -= self._counts[bucket]
            if rank < 0:
                return 0.0 if bucket == _ZERO else math.exp(bucket * _RATIO)
        return None  # unreachable: the counts add up to total


@dataclass(frozen=True, slots=True)
class QualityReport:
    """One player report, validated (``mediad/api/analytics.py``); None: not in it."""

    session_id: str | None = None
    ttff_ms: int | None = None
    latency_ms: int | None = None
    rendition: str = ""
    buffer_ms: int | None = None
    throughput_kbps: int | None = None
    stalls: int | None = None
    """Stalls since the session's previous report."""
    watched_ms: int | None = None
    """Time spent playing since the session's previous report."""


@dataclass(slots=True)
class _Session:
    last_seen: float
    rendition: str = ""
    from_url: bool = False
    """The rendition came from the URL of a request (a media playlist's name)."""
    buffer: int | None = None  # tally buckets
    throughput: int | None = None
    reports: bool = False
    """The player reports its stalls and viewing time itself."""


@dataclass(slots=True)
class _Stream:
    sessions: OrderedDict[str, _Session] = field(default_factory=OrderedDict)
    """Least recently heard from first."""
    renditions: Counter[str] = field(default_factory=Counter)
    buffers: LogTally = field(default_factory=LogTally)
    throughputs: LogTally = field(default_factory=LogTally)
    stalls: int = 0
    viewing_sec: float = 0.0
    last_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamQuality:
    """A stream's figures now."""

    sessions: int
    renditions: dict[str, int]
    stalls: int
    viewing_sec: float
    buffer_sec: float | None
    throughput_bps: float | None

    @property
    def stalls_per_viewer_minute(self) -> float:
        """Over the stream's whole broadcast so far (the dashboard takes rates)."""
        return 60.0 * self.stalls / self.viewing_sec if self.viewing_sec > 0 else 0.0

    def as_message(self) -> dict[str, object]:
        """The ``quality`` field of the control room's health message."""
        return {
            "sessions": self.sessions,
            "renditions": dict(sorted(self.renditions.items(), key=lambda kv: -kv[1])),
            "stalls": self.stalls,
            "viewingSec": round(self.viewing_sec, 1),
            "stallsPerViewerMinute": round(self.stalls_per_viewer_minute, 3),
            "bufferSec": None if self.buffer_sec is None else round(self.buffer_sec, 2),
            "throughputKbps": None if self.throughput_bps is None
            else round(self.throughput_bps / 1000),
        }


class PlayerQuality:
    """The aggregate of every stream's player sessions."""

    def __init__(self, *, active_sec: float = 60.0, max_sessions: int = 10_000,
                 max_total_sessions: int = 50_000, max_streams: int = 1_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.active_sec = active_sec
        self.max_sessions = max_sessions
        self.max_total_sessions = max_total_sessions
        self.max_streams = max_streams
        self.total_sessions = 0
        self._clock = clock
        self._streams: dict[str, _Stream] = {}

    def stream_ids(self) -> list[str]:
        return list(self._streams)

    def forget(self, stream_id: str) -> None:
        """The stream ended: its sessions and totals go (its series vanish)."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            self.total_sessions -= len(stream.sessions)

    def prune(self, is_live: Callable[[str], bool]) -> None:
        """Forget the streams that are no longer live and the sessions gone silent."""
        now = self._clock()
        for stream_id in list(self._streams):
            if is_live(stream_id):
                self._expire(self._streams[stream_id], now)
            else:
                self.forget(stream_id)

    def observe_cmcd(self, stream_id: str, session_key: str, cmcd: Cmcd,
                     rendition: str | None) -> None:
        """One HLS request's CMCD; ``rendition`` is the media playlist its URL names (None
        for the multivariant playlist)."""
        now = self._clock()
        held = self._held(stream_id, cmcd.session_id or session_key, now)
        if held is None:
            return
        stream, session, previous = held
        if rendition and cmcd.object_type != "a":  # an audio group is not a rendition
            self._set_rendition(stream, session, rendition, from_url=True)
        self._set_figures(stream, session, cmcd.buffer_ms, cmcd.throughput_kbps)
        if not session.reports:
            if cmcd.starved:
                stream.stalls += 1
            if previous is not None and not cmcd.startup:
                stream.viewing_sec += min(MAX_REQUEST_GAP_SEC, max(0.0, now - previous))

    def observe_report(self, stream_id: str, session_key: str, report: QualityReport) -> None:
        """One player report; the histograms take its startup and latency."""
        if report.ttff_ms is not None:
            STARTUP.observe(report.ttff_ms / 1000)
        if report.latency_ms is not None:
            LATENCY.observe(report.latency_ms / 1000)
        held = self._held(stream_id, report.session_id or session_key, self._clock())
        if held is None:
            return
        stream, session, _ = held
        if report.rendition and not session.from_url:
            self._set_rendition(stream, session, report.rendition, from_url=False)
        self._set_figures(stream, session, report.buffer_ms, report.throughput_kbps)
        if report.stalls is not None or report.watched_ms is not None:
            session.reports = True
            stream.stalls += report.stalls or 0
            stream.viewing_sec += (report.watched_ms or 0) / 1000

    def quality(self, stream_id: str) -> StreamQuality | None:
        """The stream's figures, None when no player was ever heard from."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return None
        self._expire(stream, self._clock())
        return StreamQuality(
            sessions=len(stream.sessions), renditions=dict(+stream.renditions),
            stalls=stream.stalls, viewing_sec=stream.viewing_sec,
            buffer_sec=stream.buffers.median(), throughput_bps=stream.throughputs.median())

    # -- bookkeeping ---------------------------------------------------------------------

    def _stream(self, stream_id: str, now: float) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            if len(self._streams) >= self.max_streams:
                self.forget(min(self._streams, key=lambda sid: self._streams[sid].last_seen))
            stream = self._streams[stream_id] = _Stream()
        stream.last_seen = now
        return stream

    def _held(self, stream_id: str, key: str, now: float
              ) -> tuple[_Stream, _Session, float | None] | None:
        """The stream, its session ``key`` and when that was last heard; None: no room."""
        stream = self._stream(stream_id, now)
        held = self._session(stream, key, now)
        return None if held is None else (stream, *held)

    def _session(self, stream: _Stream, key: str, now: float
                 ) -> tuple[_Session, float | None] | None:
        """The session (created if new, moved to the back) and when it was last heard;
        None for a new one there is no room for."""
        self._expire(stream, now)
        session = stream.sessions.get(key)
        if session is None:
            if len(stream.sessions) >= self.max_sessions or \
                    self.total_sessions >= self.max_total_sessions:
                if not stream.sessions:
                    return None
                self._drop(stream, next(iter(stream.sessions)))
            session = stream.sessions[key] = _Session(now)
            self.total_sessions += 1
            return session, None
        previous = session.last_seen
        session.last_seen = now
        stream.sessions.move_to_end(key)
        return session, previous

    def _expire(self, stream: _Stream, now: float) -> None:
        while stream.sessions:
            key, oldest = next(iter(stream.sessions.items()))
            if now - oldest.last_seen <= self.active_sec:
                return
            self._drop(stream, key)

    def _drop(self, stream: _Stream, key: str) -> None:
        session = stream.sessions.pop(key)
        self.total_sessions -= 1
        _uncount_rendition(stream, session)
        if session.buffer is not None:
            stream.buffers.remove(session.buffer)
        if session.throughput is not None:
            stream.throughputs.remove(session.throughput)

    @staticmethod
    def _set_rendition(stream: _Stream, session: _Session, rendition: str, *,
                       from_url: bool) -> None:
        _uncount_rendition(stream, session)
        if rendition not in stream.renditions and len(stream.renditions) >= MAX_RENDITION_NAMES:
            rendition = OTHER_RENDITION
        stream.renditions[rendition] += 1
        session.rendition = rendition
        session.from_url = session.from_url or from_url

    @classmethod
    def _set_figures(cls, stream: _Stream, session: _Session, buffer_ms: int | None,
                     throughput_kbps: int | None) -> None:
        """The session's latest buffer and throughput, where told, in the stream's tallies."""
        if buffer_ms is not None:
            session.buffer = cls._retally(stream.buffers, session.buffer, buffer_ms / 1000)
        if throughput_kbps is not None:
            session.throughput = cls._retally(stream.throughputs, session.throughput,
                                              throughput_kbps * 1000.0)

    @staticmethod
    def _retally(tally: LogTally, old: int | None, value: float) -> int:
        bucket = LogTally.bucket(value)
        if old is not None:
            tally.remove(old)
        tally.add(bucket)
        return bucket


def _uncount_rendition(stream: _Stream, session: _Session) -> None:
    """The session leaves its rendition's count; a name no session holds any more goes."""
    if not session.rendition:
        return
    stream.renditions[session.rendition] -= 1
    if stream.renditions[session.rendition] <= 0:
        del stream.renditions[session.rendition]
