"""AAC in ADTS (stream_type 0x0F, fmp4-mpegts.md §7.2) → raw AAC frames and an
AudioSpecificConfig.

One PES may hold several ADTS frames: the PES PTS belongs to the first one that starts in
it, each following frame is 1024 samples later. A frame that runs past the end of its PES is
completed from the start of the next one (TS allows ADTS frames to straddle PES packets;
ffmpeg never does it, some hardware encoders do). Broken framing skips the rest of the PES
(``errors``); the next PES starts afresh.

The time of the n-th frame is computed like libavformat's ``av_add_stable`` (each frame
starts on the grid of 1024-sample steps counted from 0, keeping the PES's offset from that
grid), so the values match what ffmpeg-based tools report for the same stream exactly,
and rounding never accumulates.
"""

from __future__ import annotations

from math import gcd
from typing import Final, NamedTuple

from ingest.codecs import aac
from ingest.codecs.aac import SAMPLE_RATES
from ingest.codecs.bits import Buffer
from ingest.media import TrackInfo

AUDIO_TRACK_ID: Final = 1
TIMESCALE: Final = 90000
SAMPLES_PER_FRAME: Final = 1024
_HEADER: Final = 7


def next_frame_time(ts: int, rate: int) -> int:
    """``av_add_stable(1/90000, ts, 1/rate, 1024)``: ``ts`` plus one frame, on 90 kHz."""
    g = gcd(SAMPLES_PER_FRAME, rate)
    num, den = SAMPLES_PER_FRAME // g, rate // g  # one frame in seconds, reduced
    step = num * TIMESCALE
    if step % den == 0:
        return ts + step // den
    old = _rescale(ts, den, step)  # ts in frames, rounded
    return _rescale(old + 1, step, den) + ts - _rescale(old, step, den)


def _rescale(a: int, b: int, c: int) -> int:
    """``av_rescale_rnd(a, b, c, AV_ROUND_NEAR_INF)``."""
    if a < 0:
        return -((-a * b + c // 2) // c)
    return (a * b + c // 2) // c


def _is_sync(data: Buffer, pos: int) -> bool:
    """An ADTS syncword (and layer 0) at ``pos``, as far as ``data`` goes."""
    if pos >= len(data) or data[pos] != 0xFF:
        return False
    return pos + 1 == len(data) or data[pos + 1] & 0xF6 == 0xF0


class AdtsFrame(NamedTuple):
    announced: TrackInfo | None
    """The new track this frame's header describes, None while it stays the same."""
    track: TrackInfo
    pts: int
    raw: bytes
    """The raw AAC frame, without its ADTS header."""


class AdtsPes(NamedTuple):
    """What one PES gave."""

    frames: list[AdtsFrame]
    errors: int
    """Broken ADTS framing (the rest of that PES is skipped), or a frame carried over from
    the previous PES that this one does not continue."""
    multi_block_frames: int
    """ADTS frames with several raw data blocks: dropped (fMP4 wants one per sample)."""

    @property
    def last(self) -> int | None:
        """The time of the last frame, if any."""
        return self.frames[-1].pts if self.frames else None


_NONE: Final = AdtsPes([], 0, 0)


class AdtsParser:
    """One ADTS elementary stream: current track, the frame straddling two PES if any."""

    __slots__ = ("_carry", "_carry_pts", "next_time", "track")

    def __init__(self) -> None:
        self.track: TrackInfo | None = None
        self._carry = b""
        """The start of a frame the previous PES ended in the middle of."""
        self._carry_pts = 0
        self.next_time: int | None = None
        """When the frame after the last one emitted starts: the time of a PES without PTS
        that follows without loss (PTS is only required every 0.7 s)."""

    def reset(self) -> None:
        """Forget a frame that straddles PES packets and where the next frame starts (a loss
        came in between)."""
        self._carry = b""
        self.next_time = None

    def pes(self, data: Buffer, pts: int | None) -> AdtsPes:
        """Split one PES payload into frames. ``pts`` None: the PES carried none, its frames
        continue from the last one (``next_time`` must be known then)."""
        carried = False
        errors = 0
        if self._carry:
            carry, self._carry = self._carry, b""
            if self._continues(carry, data):
                data = carry + data
                carried = True
            else:
                errors += 1
        end = len(data)
        pos = 0
        count = 0
        rate = 0
        if carried:
            frame_pts = self._carry_pts
        elif pts is not None:
            frame_pts = pts
        elif self.next_time is not None:
            frame_pts = self.next_time
        else:
            return AdtsPes([], errors, 0) if errors else _NONE
        frames: list[AdtsFrame] = []
        multi_block = 0
        while True:
            if count:  # the time of the next frame
                if count == 1 and carried and pts is not None:
                    frame_pts = pts
                else:
                    frame_pts = next_frame_time(frame_pts, rate)
            if end - pos < _HEADER:
                break
            if not _is_sync(data, pos):
                return AdtsPes(frames, errors + 1, multi_block)
            length = (data[pos + 3] & 3) << 11 | data[pos + 4] << 3 | data[pos + 5] >> 5
            rate_index = data[pos + 2] >> 2 & 0x0F
            if length < (7 if data[pos + 1] & 1 else 9) or rate_index >= len(SAMPLE_RATES):
                return AdtsPes(frames, errors + 1, multi_block)
            rate = SAMPLE_RATES[rate_index]
            if pos + length > end:
                break
            frame = self._frame(data[pos:pos + length], frame_pts)
            if frame is None:
                multi_block += 1
            else:
                frames.append(frame)
            pos += length
            count += 1
        if pos < end:
            if _is_sync(data, pos):
                self._carry = bytes(data[pos:])  # finished by the next PES
                self._carry_pts = frame_pts
            else:
                errors += 1
        return AdtsPes(frames, errors, multi_block)

    @staticmethod
    def _continues(carry: bytes, data: Buffer) -> bool:
        """Whether ``data`` plausibly continues the carried frame: where the frame ends,
        ``data`` ends or a frame starts."""
        if len(carry) < _HEADER:
            return True  # the header itself was cut: cannot tell, try
        length = (carry[3] & 3) << 11 | carry[4] << 3 | carry[5] >> 5
        need = length - len(carry)
        return need >= len(data) or _is_sync(data, need)

    def _frame(self, frame: Buffer, pts: int) -> AdtsFrame | None:
        """The frame, or None for one with several raw data blocks."""
        b2 = frame[2]
        if frame[6] & 3:  # number_of_raw_data_blocks_in_frame
            return None
        profile = b2 >> 6
        rate_index = b2 >> 2 & 0x0F
        channel_config = (b2 & 1) << 2 | frame[3] >> 6
        config = aac.audio_specific_config(profile + 1, rate_index, channel_config)
        track = self.track
        announced = None
        if track is None or track.config != config:
            track = announced = self.track = aac.track(AUDIO_TRACK_ID, TIMESCALE, config)
        self.next_time = next_frame_time(pts, track.sample_rate)
        return AdtsFrame(announced, track, pts, bytes(frame[7 if frame[1] & 1 else 9:]))
