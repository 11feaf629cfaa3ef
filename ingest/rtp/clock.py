"""RTP timestamps of a WebRTC publish onto one media axis.

Each track's 32-bit RTP timestamp starts at a random value and wraps (90 kHz video: every
13.3 hours; 48 kHz Opus: every 24.9 hours); ``ingest.timeline.Timeline`` extends it. Tracks
are aligned with each other by the RTCP sender reports, which tie each track's RTP clock to
the sender's one NTP clock (RFC 3550 section 6.4.1):

- The first track to deliver a frame starts the axis at 0 (the *lead*).
- Until both have sender reports, a later track is placed by arrival: its first frame is put
  where the lead's clock stood when it arrived (the caller passes arrival times: no clock is
  read here).
- Once the lead and a track both have reports, the track's place follows from them, and is
  corrected when it is off by more than ``RESYNC_SEC`` (jitter below that is not worth a
  step) and ignored when it is off by more than ``MAX_RESYNC_SEC`` (not a report of this
  stream's). A correction that would move a track backwards drops its frames until it is
  past the last one handed out (a few audio frames, once), so time never goes backwards.
"""

from __future__ import annotations

from typing import Final

from ingest.timeline import Timeline

NTP_SCALE: Final = 1 << 32
"""An NTP timestamp's fraction: seconds = ntp / 2**32."""
RESYNC_SEC: Final = 0.02
MAX_RESYNC_SEC: Final = 1.0
"""A correction larger than this is a report that does not describe this stream (another
SSRC's, a sender that reset its clock): ignored and counted, rather than a jump of seconds
in the media."""


class TrackClock:
    """One track's RTP clock: its extended timestamps and its latest sender report."""

    __slots__ = ("_timeline", "origin", "rate", "report")

    def __init__(self, rate: int) -> None:
        if rate <= 0:
            raise ValueError("an RTP clock rate is positive")
        self.rate = rate
        self._timeline = Timeline(32, on_backwards="clamp")
        self.origin: int | None = None
        """The extended timestamp at media time 0."""
        self.report: tuple[float, int] | None = None
        """(sender NTP seconds, extended RTP timestamp) of the latest sender report."""

    def extend(self, timestamp: int) -> int:
        """``timestamp`` on the track's extended axis (never wraps)."""
        self._timeline.stamp(timestamp)
        raw = self._timeline.raw
        assert raw is not None
        return raw

    def sender_time(self, extended: int) -> float:
        """The sender's NTP seconds of an extended timestamp (a report is known)."""
        assert self.report is not None
        ntp, at = self.report
        return ntp + (extended - at) / self.rate


class SessionClock:
    """Media times of every track of one publish, in each track's own RTP rate."""

    def __init__(self) -> None:
        self.tracks: dict[str, TrackClock] = {}
        self._lead: str | None = None
        self._lead_arrival: tuple[float, int] | None = None
        """(arrival seconds, media time) of the lead's latest frame: where a new track
        starts until reports are known."""
        self._last: dict[str, int] = {}
        self.resyncs = 0
        """Corrections made from sender reports."""
        self.dropped = 0
        """Frames dropped because a correction moved their track backwards."""
        self.refused_reports = 0
        """Sender reports that would have moved a track by more than ``MAX_RESYNC_SEC``."""

    def add_track(self, name: str, rate: int) -> None:
        if name not in self.tracks:
            self.tracks[name] = TrackClock(rate)

    def sender_report(self, name: str, ntp_timestamp: int, rtp_timestamp: int) -> None:
        """An RTCP SR of track ``name``: its 64-bit NTP timestamp and the RTP timestamp of
        the same instant."""
        clock = self.tracks[name]
        clock.report = (ntp_timestamp / NTP_SCALE, clock.extend(rtp_timestamp))
        if name == self._lead:
            for other, track in self.tracks.items():
                if other != name:
                    self._align(track)
        else:
            self._align(clock)

    def media_time(self, name: str, timestamp: int, arrival: float) -> int | None:
        """The media time of a frame of track ``name`` (its RTP timestamp, and when it
        arrived in seconds on the caller's clock), in the track's rate; None for a frame to
        drop (behind the last one after a correction)."""
        clock = self.tracks[name]
        extended = clock.extend(timestamp)
        if clock.origin is None:
            self._start(name, clock, extended, arrival)
        assert clock.origin is not None
        media = extended - clock.origin
        last = self._last.get(name)
        if last is not None and media < last:
            self.dropped += 1
            return None
        self._last[name] = media
        if name == self._lead:
            self._lead_arrival = (arrival, media)
        return media

    def _start(self, name: str, clock: TrackClock, extended: int, arrival: float) -> None:
        if self._lead is None:
            self._lead = name
            clock.origin = extended
            return
        lead = self.tracks[self._lead]
        if clock.report is not None and lead.report is not None and lead.origin is not None:
            clock.origin = self._synced_origin(clock, lead)
            return
        assert self._lead_arrival is not None
        at, lead_media = self._lead_arrival
        lead_now = lead_media / lead.rate + (arrival - at)
        clock.origin = extended - round(lead_now * clock.rate)

    def _align(self, clock: TrackClock) -> None:
        lead = self.tracks.get(self._lead or "")
        if (lead is None or lead is clock or lead.report is None or lead.origin is None
                or clock.report is None or clock.origin is None):
            return
        synced = self._synced_origin(clock, lead)
        step = abs(synced - clock.origin)
        if step > MAX_RESYNC_SEC * clock.rate:
            self.refused_reports += 1
        elif step > RESYNC_SEC * clock.rate:
            clock.origin = synced
            self.resyncs += 1

    @staticmethod
    def _synced_origin(clock: TrackClock, lead: TrackClock) -> int:
        """The extended timestamp of ``clock`` at the sender instant of the lead's media
        time 0."""
        assert lead.origin is not None and clock.report is not None
        zero = lead.sender_time(lead.origin)
        ntp, at = clock.report
        return at + round((zero - ntp) * clock.rate)
