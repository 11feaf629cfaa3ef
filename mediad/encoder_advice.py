"""Encoder advice: settings of a publisher's encoder that hurt its viewers, in words, with
what to set in OBS.

Sans-IO: ``EncoderAdvisor`` observes the tracks and frames of one publish and answers the
current advice; it never reads a clock. Every measurement comes from the frames' own
timestamps (decode and presentation times in the track's timescale), so it says what the
encoder did, not what the network did to it. The rules, each with a stable ``code``:

- ``keyframe_interval``: keyframes further apart than ``max_keyframe_interval_sec`` (2 s).
  Segments start at keyframes: OBS's default (250 frames, 8.3 s at 30 fps) makes 8 s
  segments, so a new viewer waits for one and non-low-latency players sit ~25 s behind.
  Measured over the last few GOPs and the one still open.
- ``b_frames``: pictures presented out of decoding order (a pts below one already seen).
  WebRTC playback cannot carry them; the warning is given only when ``webrtc_playback`` is
  on: WHEP serving the source itself, with no transcoded ladder (they are detected anyway).
- ``bitrate``: the media bitrate over the last 10 s of each track's own timeline, more than
  10 % above ``max_ingest_kbps`` (0: no limit).
- ``audio_sample_rate``: AAC at a rate other than 44.1 or 48 kHz (players resample it
  wrongly or refuse it; Opus always decodes at 48 kHz).
- ``variable_frame_rate``: frame intervals that vary by more than 15 % of their mean
  (standard deviation over the last 120 frames): stutter for viewers. Millisecond
  timestamps (RTMP) of a constant rate vary by under 3 %.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ingest.media import Frame, TrackInfo

__all__ = [
    "AUDIO_SAMPLE_RATE",
    "BITRATE",
    "B_FRAMES",
    "KEYFRAME_INTERVAL",
    "VARIABLE_FRAME_RATE",
    "Advice",
    "AdviceSettings",
    "EncoderAdvisor",
]

KEYFRAME_INTERVAL = "keyframe_interval"
B_FRAMES = "b_frames"
BITRATE = "bitrate"
AUDIO_SAMPLE_RATE = "audio_sample_rate"
VARIABLE_FRAME_RATE = "variable_frame_rate"

PLAYABLE_SAMPLE_RATES = frozenset({44_100, 48_000})
GOPS_KEPT = 4
"""Closed GOPs the keyframe rule looks at: a changed setting shows within four keyframes."""
KEYFRAME_TOLERANCE = 1.05
"""An encoder set to 2 s lands a frame either side of it."""
REORDER_WINDOW = 300
"""Video frames the B-frame rule looks back over (10 s at 30 fps)."""
BITRATE_WINDOW_SEC = 10.0
BITRATE_MIN_SPAN_SEC = 5.0
"""Less media than this on every track: no bitrate yet (the first seconds are bursty)."""
BITRATE_TOLERANCE = 1.10
"""CBR encoders overshoot their setting by a few percent."""
INTERVALS_KEPT = 120
INTERVALS_NEEDED = 60
MAX_INTERVAL_VARIATION = 0.15
"""Standard deviation of frame intervals over their mean, past which the rate varies."""

_OUTPUT = "Settings > Output (Output Mode: Advanced) > Streaming"


@dataclass(frozen=True, slots=True)
class AdviceSettings:
    max_keyframe_interval_sec: float = 2.0
    max_ingest_kbps: int = 0
    """``streams.max_ingest_kbps``; 0: no limit, no bitrate advice."""
    webrtc_playback: bool = False
    """B-frames are advised against only when WebRTC viewers would get the source itself
    (WHEP on, no transcoded ladder: a B-frame source has no WebRTC video then)."""


@dataclass(frozen=True, slots=True)
class Advice:
    """One thing to change, as the control room and the health channel show it."""

    code: str
    """Stable: clients key on it (``KEYFRAME_INTERVAL``, ...); the words may change."""
    value: float
    """What was measured, in ``unit``."""
    unit: str
    limit: float | None
    """What the value should not exceed (or, for sample rates, what it should be)."""
    message: str
    """What is wrong and what it does to viewers."""
    obs: str
    """What to set in OBS."""

    def as_message(self) -> dict[str, Any]:
        return {"code": self.code, "value": self.value, "unit": self.unit,
                "limit": self.limit, "message": self.message, "obs": self.obs}


@dataclass(slots=True)
class _TrackBytes:
    """One track's payload sizes over its own timeline (seconds), for the bitrate."""

    sizes: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def add(self, at: float, size: int) -> None:
        self.sizes.append((at, size))
        self.total += size
        while self.sizes and self.sizes[0][0] < at - BITRATE_WINDOW_SEC:
            self.total -= self.sizes.popleft()[1]

    @property
    def span(self) -> float:
        return self.sizes[-1][0] - self.sizes[0][0] if len(self.sizes) > 1 else 0.0


class EncoderAdvisor:
    """The advice for one publish, from what it sent so far."""

    def __init__(self, settings: AdviceSettings | None = None) -> None:
        self.settings = settings if settings is not None else AdviceSettings()
        self.reset()

    def reset(self) -> None:
        """A new publisher (or takeover): nothing measured of the previous one counts; its
        tracks are announced again."""
        self._tracks: dict[int, TrackInfo] = {}
        self._video_timescale = 0
        self._last_key: int | None = None
        self._last_video_dts: int | None = None
        self._gops: deque[float] = deque(maxlen=GOPS_KEPT)
        self._max_pts: int | None = None
        self._reordered: deque[bool] = deque(maxlen=REORDER_WINDOW)
        self._intervals: deque[float] = deque(maxlen=INTERVALS_KEPT)
        self._bytes: dict[int, _TrackBytes] = {}

    def gap(self) -> None:
        """Frames were lost between the publisher and us (a reader that fell behind): the
        spacing across the gap says nothing about the encoder."""
        self._last_key = self._last_video_dts = self._max_pts = None
        self._bytes.clear()

    # -- observing ---------------------------------------------------------------------------

    def track(self, track: TrackInfo) -> None:
        """A track was announced or its configuration changed."""
        previous = self._tracks.get(track.track_id)
        self._tracks[track.track_id] = track
        if previous is not None and previous.timescale != track.timescale:
            self.gap()

    def frame(self, frame: Frame) -> None:
        track = frame.track
        if track.track_id not in self._tracks:
            self._tracks[track.track_id] = track
        self._bytes.setdefault(track.track_id, _TrackBytes()).add(
            frame.dts / track.timescale, len(frame.payload))
        if frame.is_video:
            self._video(frame)

    def _video(self, frame: Frame) -> None:
        if frame.track.timescale != self._video_timescale:
            self._video_timescale = frame.track.timescale
            self._last_key = self._last_video_dts = self._max_pts = None
        timescale = self._video_timescale
        if self._last_video_dts is not None:
            interval = (frame.dts - self._last_video_dts) / timescale
            if interval > 0:
                self._intervals.append(interval)
        self._last_video_dts = frame.dts
        if frame.keyframe:
            if self._last_key is not None and frame.dts > self._last_key:
                self._gops.append((frame.dts - self._last_key) / timescale)
            self._last_key = frame.dts
        if self._max_pts is not None:
            self._reordered.append(frame.pts < self._max_pts)
        self._max_pts = frame.pts if self._max_pts is None else max(self._max_pts, frame.pts)

    # -- what was measured ------------------------------------------------------------------

    @property
    def keyframe_interval(self) -> float | None:
        """Seconds between keyframes: the longest of the last GOPs and the one still open."""
        longest = max(self._gops, default=None)
        if self._last_key is not None and self._last_video_dts is not None:
            open_gop = (self._last_video_dts - self._last_key) / self._video_timescale
            longest = open_gop if longest is None else max(longest, open_gop)
        return longest

    @property
    def reordered_frames(self) -> int:
        """Pictures of the last ``REORDER_WINDOW`` shown out of decoding order (B-frames)."""
        return sum(self._reordered)

    @property
    def bitrate_kbps(self) -> float | None:
        tracks = self._bytes.values()
        if not any(t.span >= BITRATE_MIN_SPAN_SEC for t in tracks):
            return None
        return sum(t.total * 8 / 1000 / t.span for t in tracks if t.span > 0)

    # -- the advice ---------------------------------------------------------------------------

    def advice(self) -> list[Advice]:
        found = [self._keyframes(), self._b_frames(), self._bitrate(),
                 *self._sample_rates(), self._frame_rate()]
        return [advice for advice in found if advice is not None]

    def _keyframes(self) -> Advice | None:
        limit = self.settings.max_keyframe_interval_sec
        interval = self.keyframe_interval
        if interval is None or interval <= limit * KEYFRAME_TOLERANCE:
            return None
        # Longer than every GOP seen: the open one, whose end is still to come.
        open_gop = interval > max(self._gops, default=0.0)
        said = (f"No keyframe for {interval:.1f} s" if open_gop
                else f"Keyframes come {interval:.1f} s apart")
        return Advice(
            KEYFRAME_INTERVAL, round(interval, 1), "s", limit,
            f"{said}. A segment can only start at a keyframe: new viewers wait longer before "
            "the picture starts, and players that are not low-latency fall further behind.",
            f"{_OUTPUT} > Keyframe Interval: 1 s or {limit:g} s (not 0, which leaves it to "
            "the encoder).")

    def _b_frames(self) -> Advice | None:
        reordered = self.reordered_frames
        if not self.settings.webrtc_playback or not reordered:
            return None
        return Advice(
            B_FRAMES, reordered, "frames", 0,
            f"The video has B-frames ({reordered} of the last {len(self._reordered)} "
            "pictures are shown out of decoding order). WebRTC playback cannot carry them: "
            "viewers watching over WebRTC see stutter or a frozen picture.",
            f"{_OUTPUT}: set B-frames to 0 (NVENC, QuickSync and AMF have a B-Frames field; "
            "for x264 choose Profile: baseline, or x264 Options: bframes=0).")

    def _bitrate(self) -> Advice | None:
        limit = self.settings.max_ingest_kbps
        kbps = self.bitrate_kbps
        if not limit or kbps is None or kbps <= limit * BITRATE_TOLERANCE:
            return None
        return Advice(
            BITRATE, round(kbps), "kbit/s", limit,
            f"The encoder sends {kbps:.0f} kbit/s, more than this server's limit of "
            f"{limit} kbit/s: viewers on slower connections buffer, and the original "
            "quality stalls for most of them.",
            f"{_OUTPUT} > Rate Control: CBR, Bitrate: {limit} Kbps or less (the audio "
            "bitrate counts too).")

    def _sample_rates(self) -> list[Advice]:
        found = []
        for track in self._tracks.values():
            rate = track.sample_rate
            if track.kind != "audio" or track.codec != "aac" or not rate:
                continue
            if rate in PLAYABLE_SAMPLE_RATES:
                continue
            found.append(Advice(
                AUDIO_SAMPLE_RATE, rate, "Hz", 48_000,
                f"The audio is sampled at {rate / 1000:g} kHz. Browsers and players handle "
                "44.1 and 48 kHz; at other rates some play it at the wrong speed, with "
                "clicks, or not at all.",
                "Settings > Audio > General > Sample Rate: 48 kHz (or 44.1 kHz); then "
                "restart OBS."))
        return found

    def _frame_rate(self) -> Advice | None:
        intervals = self._intervals
        if len(intervals) < INTERVALS_NEEDED:
            return None
        mean = statistics.fmean(intervals)
        spread = statistics.pstdev(intervals, mean)
        if spread <= MAX_INTERVAL_VARIATION * mean:
            return None
        slowest, fastest = 1 / max(intervals), 1 / min(intervals)
        return Advice(
            VARIABLE_FRAME_RATE, round(spread * 1000, 1), "ms", round(
                MAX_INTERVAL_VARIATION * mean * 1000, 1),
            f"The frame rate varies: frame intervals differ by {spread * 1000:.0f} ms "
            f"around their {mean * 1000:.0f} ms average (between {slowest:.0f} and "
            f"{fastest:.0f} fps). Viewers see it as stutter.",
            "Settings > Video > Common FPS Values: 30 or 60 (a fixed rate). If OBS's status "
            "bar shows frames skipped or dropped, lower Output (Scaled) Resolution or choose "
            "a faster encoder preset.")
