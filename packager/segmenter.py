"""One rendition's segmenter: its frames in, CMAF fragments out, published as LL-HLS parts
and segments of its playlist.

Cuts follow one *driver* track (video, or audio when there is no video): a part closes as
soon as the next frame could not fit in the part target (so a part is published the moment
its last frame arrives, not one frame later), and a segment closes at the first keyframe at
least a segment target after its start. Times come from the stream's ``OutputTimeline``, so
every rendition cuts at the same output times and dates.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from packager.cmaf import CmafTrack, Sample, fragment, init_segment
from packager.llhls import MediaPlaylist
from packager.output_timeline import OutputTimeline, Placement
from packager.rendition_stats import RenditionStats

__all__ = ["MAX_SAMPLE_GAP", "VIDEO_TIMESCALE", "Segmenter", "fmp4_timescale"]

VIDEO_TIMESCALE = 90000
MAX_SAMPLE_GAP = 1.0
STEPS_KEPT = 9
"""Decode-time steps a track's estimate is the median of (odd: one middle value; ms
timestamps make 30 fps steps of 33 and 34)."""
"""A longer gap between two frames of a track (a reader that dropped a GOP, a stalled
encoder) is not stretched into one sample's duration."""


def fmp4_timescale(info: TrackInfo) -> int:
    """The fMP4 timescale a track is written in: 90 kHz video, audio at its sample rate."""
    return VIDEO_TIMESCALE if info.kind == "video" else (info.sample_rate or 48000)


@dataclass
class _TrackState:
    info: TrackInfo
    cmaf: CmafTrack
    offset: int = 0
    """Added to converted decode times: this publish's place on the output timeline."""
    last_dts: int = -1
    delta: float = 0.0
    """The recent decode-time step, the estimate for a part's last sample and the frame
    rate: from the last ``STEPS_KEPT`` steps, gaps left out (``estimate``), so that one gap
    (frames lost on the way, an encoder that skipped) does not stretch the following parts'
    last samples (a running mean took ~20 frames to forget a 0.85 s gap, and a 1 s segment
    was listed as 7.4 s)."""
    steps: deque[int] = field(default_factory=lambda: deque(maxlen=STEPS_KEPT))
    end: int = 0
    """Decode time just past the last sample written."""
    pending: list[tuple[int, int, Frame]] = field(default_factory=list)

    def convert(self, value: int) -> int:
        info = self.info
        return (value * self.cmaf.timescale + info.timescale // 2) // info.timescale

    def estimate(self) -> float:
        """The mean of the recent steps that are not gaps (at most twice their median: ms
        timestamps make 30 fps steps of 33 and 34 ms, the mean is the rate); while fewer
        than three are known, the smallest of them and the nominal one (a publish whose
        first step is a gap must not start from it)."""
        steps = self.steps
        if len(steps) < 3:
            return float(min(*steps, self.nominal_duration()))
        median = statistics.median(steps)
        return statistics.fmean(step for step in steps if step <= 2 * median)

    def nominal_duration(self) -> int:
        if self.info.kind == "audio":
            per_frame = 960 if self.info.codec == "opus" else 1024
            rate = self.info.sample_rate or self.cmaf.timescale
            return max(1, per_frame * self.cmaf.timescale // rate)
        return self.cmaf.timescale // 30


class Segmenter:
    """Cuts one rendition's frames into parts and segments of ``playlist``."""

    def __init__(self, playlist: MediaPlaylist, timeline: OutputTimeline) -> None:
        self.playlist = playlist
        self.settings = playlist.settings
        self.stats = RenditionStats()
        self.timeline = timeline
        self._tracks: dict[int, _TrackState] = {}
        self._driver: _TrackState | None = None
        self._fragments = 0
        self._part_start = -1  # driver decode time where the open part starts
        self._segment_start = -1
        self._placement: Placement | None = None
        self._restart = True  # the next frame starts a publish: place it on the timeline

    @property
    def tracks(self) -> list[TrackInfo]:
        return [state.info for state in self._tracks.values()]

    def set_tracks(self, tracks: Iterable[TrackInfo]) -> None:
        """The publish's tracks; new codec parameters cut the segment and start a new init
        section (EXT-X-MAP, EXT-X-DISCONTINUITY)."""
        ordered = sorted(tracks, key=lambda t: (t.kind != "video", t.track_id))
        if [s.info for s in self._tracks.values()] == ordered:
            return
        self._close_segment()
        self._tracks = {}
        for number, info in enumerate(ordered, start=1):
            self._tracks[info.track_id] = _TrackState(
                info, CmafTrack(number, info, fmp4_timescale(info)))
        self._restart = True  # new track states: place them on the (same) timeline
        if not self._tracks:
            self._driver = None
            return
        self._driver = next(iter(self._tracks.values()))
        self.playlist.set_init(init_segment([s.cmaf for s in self._tracks.values()]))

    @property
    def end_seconds(self) -> float:
        """Output time just past the last sample written."""
        return max((s.end / s.cmaf.timescale for s in self._tracks.values()), default=0.0)

    def restart(self) -> None:
        """A new publisher (reconnect or backup takeover) feeds this rendition next."""
        self.cut()
        self._restart = True

    def cut(self) -> None:
        """End the segment here; the next one starts after EXT-X-DISCONTINUITY (a new
        encoder takes over this rung)."""
        self._close_part(final=True)
        self._close_segment()
        self.playlist.mark_discontinuity()

    def push(self, frame: Frame) -> None:
        state = self._tracks.get(frame.track.track_id)
        if state is None or state.info != frame.track:
            return  # a frame of a track not (or no longer) announced
        if self._restart:
            if frame.is_video and not frame.keyframe:
                return  # a publish starts on a keyframe
            self._start_publish(frame)
        dts = state.convert(frame.dts) + state.offset
        pts = state.convert(frame.pts) + state.offset
        if dts <= state.last_dts:
            dts = state.last_dts + 1  # never backwards inside a track
        if state.last_dts >= 0:
            step = dts - state.last_dts
            if step <= MAX_SAMPLE_GAP * state.cmaf.timescale:
                state.steps.append(step)
                state.delta = state.estimate()
        state.last_dts = dts
        if state is not self._driver:
            state.pending.append((dts, pts, frame))
            return
        self._push_driver(state, dts, pts, frame)

    def end(self) -> None:
        """The last part and segment, then EXT-X-ENDLIST."""
        self._close_part(final=True)
        self._close_segment()
        self.playlist.end()

    # -- what the multivariant playlist says of this rendition ------------------------------

    def codecs(self) -> str:
        return ",".join(s.info.codec_string for s in self._tracks.values() if s.info.codec_string)

    def resolution(self) -> tuple[int, int] | None:
        for state in self._tracks.values():
            if state.info.kind == "video" and state.info.width:
                return state.info.width, state.info.height
        return None

    # -- cutting ------------------------------------------------------------------------

    def _start_publish(self, frame: Frame) -> None:
        placement = self.timeline.place(frame.dts / frame.track.timescale, frame.arrival)
        for state in self._tracks.values():
            state.offset = round(placement.offset * state.cmaf.timescale)
            state.last_dts = -1
            state.delta = 0.0
            state.steps.clear()
        self._placement = placement
        self._restart = False

    def _push_driver(self, state: _TrackState, dts: int, pts: int, frame: Frame) -> None:
        scale = state.cmaf.timescale
        estimate = state.delta or state.nominal_duration()
        starts_segment = (frame.keyframe and self._segment_start >= 0
                          and dts - self._segment_start + estimate / 2
                          >= self.settings.segment_target * scale)
        if starts_segment:
            self._close_segment(until=dts)
        elif (self._part_start >= 0
              and dts + estimate - self._part_start > self.settings.part_limit * scale):
            self._close_part(until=dts)  # the early close below misjudged this frame's timing
        if self._part_start < 0:
            self._part_start = dts
            if self._segment_start < 0:
                self._segment_start = dts
        state.pending.append((dts, pts, frame))
        # Close now if the next frame could not fit: published on this frame's arrival.
        if dts + 2 * estimate - self._part_start > self.settings.part_limit * scale:
            self._close_part()

    def _close_part(self, *, final: bool = False, until: int | None = None) -> None:
        """Publish what is pending as one part. Only the driver's frames open a part, except
        at the very end, where trailing audio is not left behind. ``until``: the decode
        time of the driver's next frame, when it is known: its last sample lasts until then
        (a picture held over frames lost on the way), not an estimate."""
        driver = self._driver
        if driver is None or not (driver.pending or final):
            return
        tracks: list[tuple[_TrackState, list[Sample]]] = []
        arrivals: list[float] = []
        for state in self._tracks.values():
            arrivals.extend(f.arrival for _, _, f in state.pending)
            samples = self._samples(state, until if state is driver else None)
            state.pending.clear()
            if samples:
                tracks.append((state, samples))
        if not tracks:
            return
        lead, lead_samples = tracks[0]  # the driver whenever it has samples
        duration = sum(s.duration for s in lead_samples) / lead.cmaf.timescale
        if self._segment_start < 0:
            self._segment_start = round(lead_samples[0].dts * driver.cmaf.timescale
                                        / lead.cmaf.timescale)
        self._fragments += 1
        data = fragment(self._fragments, [(state.cmaf, samples) for state, samples in tracks])
        assert self._placement is not None  # samples exist only once a publish is placed
        self.playlist.add_part(
            data, duration, independent=lead is driver and lead_samples[0].keyframe,
            program_date_time=self._placement.program_date_time(
                self._segment_start / driver.cmaf.timescale),
            first_arrival=min(arrivals), last_arrival=max(arrivals))
        self.stats.parts += 1
        self._part_start = -1

    def _samples(self, state: _TrackState, until: int | None = None) -> list[Sample]:
        pending = state.pending
        samples: list[Sample] = []
        limit = MAX_SAMPLE_GAP * state.cmaf.timescale
        for i, (dts, pts, frame) in enumerate(pending):
            if i + 1 < len(pending):
                duration = pending[i + 1][0] - dts
            elif until is not None:
                duration = until - dts
            else:
                duration = round(state.delta) or state.nominal_duration()
            duration = max(1, min(duration, int(limit)))
            samples.append(Sample(dts, duration, pts - dts, frame.keyframe, frame.payload))
        if samples:
            state.end = samples[-1].dts + samples[-1].duration
        return samples

    def _close_segment(self, *, until: int | None = None) -> None:
        self._close_part(until=until)
        segment = self.playlist.finish_segment()
        if segment is not None:
            driver = self._driver
            video = driver is not None and driver.info.kind == "video" and driver.delta
            rate = driver.cmaf.timescale / driver.delta if driver and video else 0.0
            self.stats.add_segment(segment, rate)
        self._segment_start = -1
