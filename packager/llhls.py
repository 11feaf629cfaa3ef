"""The LL-HLS media playlist as a pure model: segments, parts, the preload hint, full and
delta renderings, and the blocking-reload rules (``shared/specs/ll-hls.md``).

The pipeline publishes whole parts (``add_part``) and closes segments (``finish_segment``);
HTTP handlers ask ``decide`` what a blocking request deserves and ``wait_until`` for it.
Nothing here reads a clock or touches a socket: wall-clock times (program date time) come
in as arguments and waiting is one shared future per change, so a part publication wakes
every waiting request at once and an idle waiter costs nothing.
"""

from __future__ import annotations

import asyncio
import enum
import gzip
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "Decision",
    "Hold",
    "MediaPlaylist",
    "Part",
    "PlaylistSettings",
    "Rendered",
    "Segment",
    "decide",
]

PLAYLIST_WINDOW_MIN_TDS = 3
"""A live playlist never shrinks below this many target durations (§6.2.2)."""
PART_LINES_TDS = 3
"""EXT-X-PART lines are kept for segments this many target durations from the end."""


@dataclass(frozen=True, slots=True)
class PlaylistSettings:
    part_target: float
    """PART-TARGET in seconds; every part is at most this long."""
    segment_target: float
    """Segments are cut at the first keyframe at least this long after the segment start."""
    dvr_window: float = 120.0
    """Seconds of complete segments kept (more when 3 target durations need more)."""
    max_bytes: int = 512 << 20
    """A hard cap on media bytes held, whatever the window says."""
    timing_tolerance: float = 0.002
    """Slack for millisecond timestamps (RTMP): 6 frames at 30 fps span 200 or 201 ms."""

    @property
    def part_limit(self) -> float:
        """The advertised PART-TARGET: no part is longer (a MUST of the spec)."""
        return self.part_target + self.timing_tolerance

    def __post_init__(self) -> None:
        if not 0 < self.part_target <= self.segment_target:
            raise ValueError("part target must be positive and at most the segment target")


@dataclass(slots=True)
class Part:
    msn: int
    index: int
    duration: float
    independent: bool
    data: bytes | memoryview
    first_arrival: float = 0.0
    """Ingest (monotonic) arrival of the part's first and last frame: latency accounting."""
    last_arrival: float = 0.0

    @property
    def uri(self) -> str:
        return f"seg{self.msn}.{self.index}.m4s"


@dataclass(slots=True)
class Segment:
    msn: int
    program_date_time: float
    """Wall-clock (Unix seconds) of the segment's first sample."""
    init: int
    """Which init section (``init{n}.mp4``) the segment's fragments need."""
    discontinuity: bool
    parts: list[Part] = field(default_factory=list)
    duration: float = 0.0
    complete: bool = False
    data: bytes = b""
    """The whole segment (its parts back to back) once complete."""

    @property
    def uri(self) -> str:
        return f"seg{self.msn}.m4s"

    @property
    def size(self) -> int:
        return len(self.data) if self.complete else sum(len(p.data) for p in self.parts)


class Decision(enum.Enum):
    NOW = "now"
    """Answer with the current playlist."""
    WAIT = "wait"
    """Hold the request until the playlist satisfies it (or the hold times out: 503)."""
    BAD = "bad"
    """400: malformed, or further ahead than the stream can get soon."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One rendering, shared by every request that wants it."""

    text: bytes
    _gzipped: list[bytes] = field(default_factory=list)

    @property
    def gzipped(self) -> bytes:
        if not self._gzipped:
            self._gzipped.append(gzip.compress(self.text, compresslevel=5, mtime=0))
        return self._gzipped[0]


@dataclass(frozen=True, slots=True)
class Hold:
    """How a held request's wait ended, on the event loop's clock (``loop.time()``)."""

    satisfied: bool
    """False: it timed out."""
    started: float
    woken_at: float | None
    """When the change that satisfied it happened (a part published, a segment closed);
    None when it timed out or held already."""


@dataclass(frozen=True, slots=True)
class RenditionReport:
    uri: str
    last_msn: int
    last_part: int


class MediaPlaylist:
    """One rendition's live playlist and the media it lists."""

    def __init__(self, settings: PlaylistSettings, *, first_msn: int = 1,
                 shared_target_duration: bool = False) -> None:
        """``shared_target_duration``: the playlist is one of a set whose target duration
        is settled together (``settle_target_duration``) instead of by its own first
        segment."""
        self.settings = settings
        self.segments: deque[Segment] = deque()
        self.inits: dict[int, bytes] = {}
        self.proposed_target_duration = 0
        """What this playlist's first segment asks for."""
        self.shared_target_duration = shared_target_duration
        self.discontinuity_sequence = 0
        self.ended = False
        self.version = 0
        """Bumped on every change; renderings are cached per version."""
        self._target_duration = 0
        self._siblings: tuple[tuple[str, MediaPlaylist], ...] = ()
        self._next_msn = first_msn
        self._init_id = 0
        self._pending_discontinuity = False
        self._bytes = 0
        self._rendered: dict[tuple[object, ...], Rendered] = {}
        self._changed: asyncio.Future[float] | None = None
        """Resolved with the loop's time at the next change: held requests wake on it."""
        self.on_segment: Callable[[Segment], None] | None = None
        """Told of each segment as it completes (the recorder keeps them)."""

    # -- what the pipeline does ---------------------------------------------------------

    def set_init(self, data: bytes) -> int:
        """A new init section; segments started from now on use it (a discontinuity if the
        stream already had media)."""
        if self.inits and self.inits[self._init_id] == data:
            return self._init_id
        if self.segments:
            self._pending_discontinuity = True
        self._init_id += 1
        used = {segment.init for segment in self.segments}
        for stale in [i for i in self.inits if i not in used]:
            del self.inits[stale]  # announced but never used by a segment
        self.inits[self._init_id] = data
        return self._init_id

    @property
    def target_duration(self) -> int:
        """EXT-X-TARGETDURATION; 0 until settled, then fixed (it may never change)."""
        return self._target_duration

    def settle_target_duration(self, seconds: int) -> None:
        """Fix a shared target duration (the same for every rendition of a stream)."""
        if seconds < max(1, self.proposed_target_duration):
            raise ValueError(f"target duration {seconds} s is shorter than a segment of "
                             f"this playlist ({self.proposed_target_duration} s)")
        if self._target_duration == seconds:
            return
        if self._target_duration:
            raise RuntimeError("the target duration of a playlist may never change")
        self._target_duration = seconds
        self._changed_now()

    @property
    def siblings(self) -> tuple[tuple[str, MediaPlaylist], ...]:
        """Other renditions of the same stream (URI relative to this playlist, playlist),
        reported by EXT-X-RENDITION-REPORT."""
        return self._siblings

    def set_siblings(self, siblings: Iterable[tuple[str, MediaPlaylist]]) -> None:
        self._siblings = tuple(siblings)
        self._rendered.clear()  # renderings are keyed by the siblings' versions only

    def mark_discontinuity(self) -> None:
        """The next segment starts a new timeline (publisher reconnected or replaced)."""
        if self.segments:
            self._pending_discontinuity = True

    @property
    def open_segment(self) -> Segment | None:
        if self.segments and not self.segments[-1].complete:
            return self.segments[-1]
        return None

    def add_part(self, data: bytes, duration: float, *, independent: bool,
                 program_date_time: float, first_arrival: float = 0.0,
                 last_arrival: float = 0.0) -> Part:
        """Publish one complete part; the first part of a segment opens it (and gives it its
        program date time)."""
        if self.ended:
            raise RuntimeError("the playlist has ended")
        if not self.inits:
            raise RuntimeError("set_init before the first part")
        segment = self.open_segment
        if segment is None:
            segment = Segment(self._next_msn, program_date_time, self._init_id,
                              self._pending_discontinuity)
            self._next_msn += 1
            self._pending_discontinuity = False
            self.segments.append(segment)
        part = Part(segment.msn, len(segment.parts), duration, independent, data,
                    first_arrival, last_arrival)
        segment.parts.append(part)
        self._bytes += len(data)
        self._changed_now()
        return part

    def finish_segment(self) -> Segment | None:
        """Close the open segment: its parts, back to back, become the segment."""
        segment = self.open_segment
        if segment is None:
            return None
        segment.complete = True
        segment.duration = sum(p.duration for p in segment.parts)
        segment.data = b"".join(p.data for p in segment.parts)
        view = memoryview(segment.data)
        offset = 0
        for part in segment.parts:  # parts now point into the segment: no copy held twice
            size = len(part.data)
            part.data = view[offset:offset + size]
            offset += size
        if not self.proposed_target_duration:
            # EXTINF rounded to the nearest integer may not exceed it (§4.4.3.1).
            self.proposed_target_duration = max(1, math.ceil(self.settings.segment_target),
                                                round(segment.duration))
            if not self.shared_target_duration:
                self._target_duration = self.proposed_target_duration
        self._trim()
        self._changed_now()
        if self.on_segment is not None:
            self.on_segment(segment)
        return segment

    def end(self) -> None:
        """EXT-X-ENDLIST: the broadcast is over; the hint is withdrawn."""
        if self.ended:
            return
        self.finish_segment()
        self.ended = True
        self._changed_now()

    def _trim(self) -> None:
        keep = max(self.settings.dvr_window, PLAYLIST_WINDOW_MIN_TDS * self.target_duration)
        complete = [s for s in self.segments if s.complete]
        total = sum(s.duration for s in complete)
        while len(complete) > 1:
            head = self.segments[0]
            over_window = total - head.duration >= keep
            over_bytes = self._bytes > self.settings.max_bytes
            if not (over_window or over_bytes):
                break
            self.segments.popleft()
            complete.pop(0)
            total -= head.duration
            self._bytes -= head.size
            if head.discontinuity:
                self.discontinuity_sequence += 1
            if not any(s.init == head.init for s in self.segments):
                self.inits.pop(head.init, None)

    def _changed_now(self) -> None:
        self.version += 1
        self._rendered.clear()
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(changed.get_loop().time())

    # -- what requests ask --------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Servable: the target duration is known (the first segment is complete)."""
        return self.target_duration > 0

    @property
    def first_msn(self) -> int:
        return self.segments[0].msn if self.segments else self._next_msn

    def last_position(self) -> tuple[int, int]:
        """(MSN, part index) of the newest part; part -1 when none yet."""
        for segment in reversed(self.segments):
            if segment.parts:
                return segment.msn, len(segment.parts) - 1
        return self._next_msn - 1, -1

    def last_complete_msn(self) -> int:
        for segment in reversed(self.segments):
            if segment.complete:
                return segment.msn
        return self.first_msn - 1

    def segment(self, msn: int) -> Segment | None:
        first = self.first_msn
        if not first <= msn < first + len(self.segments):
            return None
        return self.segments[msn - first]

    def part(self, msn: int, index: int) -> Part | None:
        segment = self.segment(msn)
        if segment is None or not 0 <= index < len(segment.parts):
            return None
        return segment.parts[index]

    def hint(self) -> tuple[int, int] | None:
        """The part the preload hint names: the next one to be published."""
        if self.ended or not self.inits:
            return None
        segment = self.open_segment
        if segment is not None:
            return segment.msn, len(segment.parts)
        return self._next_msn, 0

    def has(self, msn: int, part: int | None) -> bool:
        """Whether the playlist already satisfies ``_HLS_msn=msn[&_HLS_part=part]``."""
        if self.ended:
            return True
        if part is None:
            return self.last_complete_msn() >= msn
        segment = self.segment(msn)
        if segment is None:
            return msn < self.first_msn  # older than the window: answer with what we have
        if part < len(segment.parts):
            return True
        if segment.complete:  # past the final part of a closed parent: part 0 of the next
            return self.has(msn + 1, 0)
        return False

    def parts_per_segment(self) -> int:
        td = self.target_duration or math.ceil(self.settings.segment_target)
        return max(1, math.ceil(td / self.settings.part_target))

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        """True once ``predicate()`` holds after some change, False after ``within`` seconds.
        Waiters share one future per change: a publication wakes them all at once."""
        return (await self.hold(predicate, within)).satisfied

    async def hold(self, predicate: Callable[[], bool], within: float) -> Hold:
        """``wait_until``, saying when the wait began and when the change that ended it
        happened (a request's wake-up delay is from then to its answer)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + within
        woken_at: float | None = None
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return Hold(False, started, None)
            if self._changed is None:
                self._changed = loop.create_future()
            changed = self._changed
            # asyncio.wait never cancels the shared future when this waiter gives up.
            await asyncio.wait((changed,), timeout=remaining)
            if changed.done():
                woken_at = changed.result()
        return Hold(True, started, woken_at)

    # -- rendering ----------------------------------------------------------------------

    def render(self, *, skip: bool = False) -> Rendered:
        """The playlist text (a delta update when ``skip``); cached until the next change
        of this playlist or a sibling."""
        skip = skip and not self.ended
        key = (skip, self.version, *(p.version for _, p in self.siblings))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = Rendered("".join(self._lines(skip)).encode())
        return rendered

    def rendition_report(self) -> tuple[int, int]:
        """(LAST-MSN, LAST-PART) as a sibling's EXT-X-RENDITION-REPORT states them."""
        msn, part = self.last_position()
        return max(msn, 0), max(part, 0)

    def _lines(self, skip: bool) -> Iterator[str]:
        settings = self.settings
        td = self.target_duration
        skip_until = 6 * td
        segments = list(self.segments)
        skipped = 0
        if skip:
            end = sum(s.duration for s in segments if s.complete)
            elapsed = 0.0
            for segment in segments:
                if not segment.complete or end - elapsed - segment.duration <= skip_until:
                    break
                # Skipped: the segment ends more than the skip boundary before the end.
                elapsed += segment.duration
                skipped += 1
        yield "#EXTM3U\n"
        yield f"#EXT-X-VERSION:{9 if skipped else 6}\n"
        yield f"#EXT-X-TARGETDURATION:{td}\n"
        yield (f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
               f"PART-HOLD-BACK={3 * settings.part_limit:.3f},CAN-SKIP-UNTIL={skip_until:.1f}\n")
        yield f"#EXT-X-PART-INF:PART-TARGET={settings.part_limit:.3f}\n"
        yield f"#EXT-X-MEDIA-SEQUENCE:{self.first_msn}\n"
        yield f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}\n"
        yield "#EXT-X-INDEPENDENT-SEGMENTS\n"
        if skipped:
            yield f"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}\n"
        parts_from = self._part_lines_from()
        init = None
        for segment in segments[skipped:]:
            if segment.discontinuity:
                yield "#EXT-X-DISCONTINUITY\n"
            if segment.init != init:
                init = segment.init
                yield f'#EXT-X-MAP:URI="init{init}.mp4"\n'
            yield f"#EXT-X-PROGRAM-DATE-TIME:{format_date(segment.program_date_time)}\n"
            if segment.msn >= parts_from:
                for part in segment.parts:
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    yield (f"#EXT-X-PART:DURATION={part.duration:.5f}{independent},"
                           f'URI="{part.uri}"\n')
            if segment.complete:
                yield f"#EXTINF:{segment.duration:.5f},\n{segment.uri}\n"
        hint = self.hint()
        if hint is not None:
            yield f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg{hint[0]}.{hint[1]}.m4s"\n'
        for uri, sibling in self.siblings:
            last_msn, last_part = sibling.rendition_report()
            yield (f'#EXT-X-RENDITION-REPORT:URI="{uri}",LAST-MSN={last_msn},'
                   f"LAST-PART={last_part}\n")
        if self.ended:
            yield "#EXT-X-ENDLIST\n"

    def _part_lines_from(self) -> int:
        """The first MSN whose parts are still listed: those within 3 target durations of
        the end (the open segment always)."""
        horizon = PART_LINES_TDS * self.target_duration
        elapsed = 0.0
        first = self._next_msn
        for segment in reversed(self.segments):
            if segment.complete:
                elapsed += segment.duration
                if elapsed > horizon:
                    break
            first = segment.msn
        return first


def decide(playlist: MediaPlaylist, msn: int | None, part: int | None) -> Decision:
    """What a media-playlist request with ``_HLS_msn``/``_HLS_part`` deserves (§5)."""
    if playlist.ended:
        return Decision.NOW
    if part is not None and msn is None:
        return Decision.BAD
    if msn is None:
        return Decision.NOW
    if msn < 0 or (part is not None and part < 0):
        return Decision.BAD
    last_msn, last_part = playlist.last_position()
    if msn > last_msn + 2:
        return Decision.BAD
    per_segment = playlist.parts_per_segment()
    advance_limit = math.ceil(3 / playlist.settings.part_target)
    ahead = (msn - last_msn) * per_segment + (part or 0) - last_part
    if ahead > advance_limit:
        return Decision.BAD
    if playlist.has(msn, part):
        return Decision.NOW
    return Decision.WAIT


def format_date(unix_seconds: float) -> str:
    moment = datetime.fromtimestamp(unix_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_directives(query: Sequence[tuple[str, str]]) -> tuple[int | None, int | None, bool]:
    """(_HLS_msn, _HLS_part, _HLS_skip) from a query; ValueError on a malformed value."""
    values = dict(query)
    msn = _decimal(values.get("_HLS_msn"))
    part = _decimal(values.get("_HLS_part"))
    skip_value = values.get("_HLS_skip")
    if skip_value not in (None, "YES", "v2"):
        raise ValueError(f"_HLS_skip must be YES or v2, not {skip_value!r}")
    return msn, part, skip_value is not None


def _decimal(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ValueError(f"not a decimal integer: {text!r}")
    return int(text)
