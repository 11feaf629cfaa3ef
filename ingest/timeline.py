"""One track's timestamps onto one axis, the way every ingest needs it: a wrapping counter
(RTMP's 32-bit milliseconds, MPEG-TS's 33-bit 90 kHz PTS/DTS) becomes integers that never
wrap, and DTS never goes backwards inside a track.

The wrapped DTS is extended by serial arithmetic: a step of less than half the wrap either
way is taken as such (RTMP: 24.8 days; MPEG-TS: 2^32 ticks, about 13 hours), so crossing the
wrap adds one wrap. PTS is DTS plus the composition offset the caller passes (RTMP's signed
24-bit CTS; MPEG-TS's ``difference(pts, dts)``), and never below DTS.

A DTS behind the last one handed out is a publisher's mistake or a discontinuity; the
protocol chooses what it means (``on_backwards``):

- ``"clamp"`` (RTMP): the frame keeps the last DTS and the track is not shifted, so stamps
  are the publisher's own again as soon as its clock catches up (jitter between the tags of
  a muxer that interleaves badly).
- ``"rebase"`` (MPEG-TS): the rest of the track is shifted to continue from the last DTS
  (an encoder restarted, a splice): the offset stays.

Returned as ``Stamp(dts, pts)``, the one order every ingest uses.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Backwards = Literal["clamp", "rebase"]


class Stamp(NamedTuple):
    dts: int
    pts: int


class Timeline:
    __slots__ = ("_half", "_offset", "_raw", "_rebase", "jumps", "last", "wrap")

    def __init__(self, bits: int, *, on_backwards: Backwards) -> None:
        self.wrap = 1 << bits
        self._half = 1 << (bits - 1)
        self._rebase = on_backwards == "rebase"
        self._raw: int | None = None
        """The last DTS on the extended axis, before any rebasing offset."""
        self._offset = 0
        self.last: int | None = None
        """The last DTS handed out."""
        self.jumps = 0
        """Times a DTS came behind the last one (clamped, or the track rebased)."""

    @property
    def raw(self) -> int | None:
        """The last DTS extended, before rebasing: what another track's first DTS is
        placed near (``anchor``)."""
        return self._raw

    def difference(self, later: int, earlier: int) -> int:
        """``later - earlier`` of two wrapped values as the nearest signed step."""
        step = (later - earlier) % self.wrap
        return step - self.wrap if step >= self._half else step

    def stamp(self, dts: int, cts: int = 0, *, anchor: int | None = None) -> Stamp:
        """The extended (dts, pts) of a wrapped ``dts`` and a composition offset ``cts``.
        ``anchor`` places the first DTS of a track near an extended value of another track
        (so a track that starts after the other one wrapped starts past the wrap too)."""
        raw = self._raw
        if raw is None:
            raw = dts if anchor is None else anchor + self.difference(dts, anchor)
        else:
            raw += self.difference(dts, raw)
        self._raw = raw
        out = raw + self._offset
        last = self.last
        if last is not None and out < last:
            self.jumps += 1
            if self._rebase:
                self._offset += last - out
            out = last
        self.last = out
        pts = raw + self._offset + cts
        return Stamp(out, pts if pts >= out else out)

    def follow(self, dts: int) -> None:
        """A DTS the caller derived from one handed out (the later frames of a PES holding
        several): later stamps do not go behind it."""
        if self.last is not None and dts > self.last:
            self.last = dts
