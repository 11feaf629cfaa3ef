"""One live stream's WebRTC media, shared by all its WHEP viewers: never an encode per viewer.

Inputs: the stream's frames through a reader of its own (like the LL-HLS packager's), and
the ladder's encoded pictures through the pipeline's encoded-frame listener. Outputs:
``WhepUnit``s offered to every joined viewer's bounded queue.

- Video: what ``VideoChoice`` wants (the B-frame-free H.264 source, else the tallest rung);
  a change of choice takes effect at the new choice's next keyframe. A rung's picture is
  timed as the source picture it was encoded from (looked up by its pts), so a rung picture
  of a previous publish, arriving late, finds no time and is dropped.
- Audio: Opus passed through; anything else encoded to Opus once here (``AudioToOpus``).
  Held until the pictures of its time went out (``LipSync``).
- Times: ``WhepClock``, continuous across publishers.
- Join: the current GOP (a ``WarmGop``) at once, its timestamps squeezed to end at the
  newest picture's, so the browser decodes through it and shows the current picture now;
  and a keyframe asked of a publisher that can be asked.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from ingest.codecs.bits import BitstreamError
from ingest.codecs.h264 import to_annex_b
from ingest.media import Frame, TrackInfo
from mediad.fanout import Reader, drain
from mediad.warm_gop import WarmGop
from mediad.webrtc.whep_clock import WhepClock
from mediad.webrtc.whep_keyframes import KeyframeRequests
from mediad.webrtc.whep_lip_sync import LipSync
from mediad.webrtc.whep_units import WhepUnit
from mediad.webrtc.whep_video_choice import SOURCE, VideoChoice
from mediad.webrtc.whep_viewer_queue import ViewerQueue
from packager.audio_to_opus import AudioToOpus
from packager.encoders import Hop

if TYPE_CHECKING:
    from mediad.live_stream import LiveStream
    from packager.pipeline import StreamPipeline

log = logging.getLogger("mediad.webrtc")

READER_CAPACITY: Final = 1200
"""Frames queued for the feed; it works synchronously per frame (like the packager's)."""
TIMES_KEPT: Final = 600
"""Source pictures whose media time is remembered for the rungs encoded from them: 10 s at
60 fps, far more than a rung's encoding delay."""

OpusFactory = Callable[[TrackInfo, Callable[[Frame], None]], AudioToOpus]


class WhepFeed:
    def __init__(self, stream_id: str, *, queue_frames: int,
                 pipeline: Callable[[], StreamPipeline | None], hop: Hop,
                 keyframes: KeyframeRequests, opus: OpusFactory = AudioToOpus) -> None:
        self.stream_id = stream_id
        self.queue_frames = queue_frames
        self.keyframes = keyframes
        self.choice = VideoChoice()
        self.clock = WhepClock()
        self.lip_sync = LipSync()
        self.gop = WarmGop()
        self.viewers: set[ViewerQueue] = set()
        self.opus_encoders = 0
        """Opus encoders started (one per publish with non-Opus audio)."""
        self.corrupt_pictures = 0
        self.closed = False
        self._pipeline_of = pipeline
        self._hop = hop
        self._opus_factory = opus
        self._serving: str | None = None
        self._newest_video: int | None = None
        self._audio_source: TrackInfo | None = None
        self._opus: AudioToOpus | None = None
        self._opus_generation = 0
        self._times: OrderedDict[int, Fraction] = OrderedDict()
        self._listened: StreamPipeline | None = None
        self._unlisten: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._attached = False
        self._gone_falls = 0
        self._gone_dropped = 0
        self._changed = asyncio.Event()

    # -- viewers ----------------------------------------------------------------------------

    def add_viewer(self) -> ViewerQueue:
        viewer = ViewerQueue(self.queue_frames, self._join)
        self.viewers.add(viewer)
        if self._opus is None and self._audio_source is not None \
                and self._audio_source.codec != "opus":
            self._start_opus(self._audio_source)  # encoded only while someone listens
        return viewer

    def remove_viewer(self, viewer: ViewerQueue) -> None:
        if viewer in self.viewers:
            self.viewers.discard(viewer)
            self._gone_falls += viewer.falls
            self._gone_dropped += viewer.dropped_units
            if not self.viewers:
                self._stop_opus()
        viewer.close()

    @property
    def encoding_opus(self) -> bool:
        return self._opus is not None

    @property
    def falls(self) -> int:
        """Times a viewer fell behind and dropped to the next keyframe (gone ones too)."""
        return self._gone_falls + sum(v.falls for v in self.viewers)

    @property
    def dropped_units(self) -> int:
        return self._gone_dropped + sum(v.dropped_units for v in self.viewers)

    def _join(self, viewer: ViewerQueue) -> None:
        """``viewer``'s tracks pull for the first time: the current GOP, squeezed."""
        self.keyframes.request()
        newest = self._newest_video
        if self._serving is None or newest is None or not self.gop.ready:
            return
        frames = self.gop.take()
        for frame in frames:  # WarmGop hands its GOP out by taking it: keep it
            self.gop.push(frame)
        if len(frames) > viewer.capacity:
            return  # a GOP longer than the queue: this viewer starts at the next keyframe
        units: list[WhepUnit] = []
        last = len(frames) - 1
        for i, frame in enumerate(frames):
            data = self._annex_b(frame)
            if data is None:
                return
            units.append(WhepUnit("video", newest - (last - i), frame.keyframe, data))
        viewer.prime(units)

    # -- state for the endpoint -------------------------------------------------------------

    @property
    def has_video(self) -> bool:
        return self.choice.source is not None

    @property
    def has_audio(self) -> bool:
        return self._audio_source is not None

    @property
    def video_ready(self) -> bool:
        """Pictures are going out: a joining viewer gets the current one. The source's
        only once a second picture showed it has no B-frames."""
        if self._serving is None or not self.gop.ready:
            return False
        return self._serving != SOURCE or self.choice.reorder.seen >= 2

    def refusal(self, ladder: bool) -> str | None:
        """Why no WebRTC video can come, ``ladder``: the stream is transcoded (a rung may
        still start); None while it may."""
        if not self.has_video or self.choice.wanted is not None:
            return None
        if self.choice.source is not None and not self.choice.source_playable and not ladder:
            return self.choice.refusal()
        return None

    async def changed(self) -> None:
        """Returns at the next change of what is served (or of the tracks)."""
        self._changed.clear()
        await self._changed.wait()

    # -- the live stream ----------------------------------------------------------------------

    def attach(self, live: LiveStream) -> None:
        """Read ``live``'s frames (again, after a publisher left: a new publish)."""
        if self._task is not None or self.closed:
            return
        if self._attached:
            self.discontinuity()
        self._attached = True
        reader = live.add_reader("whep", READER_CAPACITY)
        self._task = asyncio.get_running_loop().create_task(self._drain(live, reader))

    async def _drain(self, live: LiveStream, reader: Reader) -> None:
        try:
            await drain(reader, self)
        except Exception:
            log.exception("webrtc feed failed", extra={"fields": {"stream": self.stream_id}})
        finally:
            live.remove_reader(reader)
            self._task = None
        if not self.closed and live.publishing:  # a publisher attached as this one ended
            self.attach(live)

    def close(self) -> None:
        """The last viewer left or the stream ended: everything goes."""
        self.closed = True
        if self._task is not None:
            self._task.cancel()
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = self._listened = None
        self._stop_opus()
        for viewer in list(self.viewers):
            self.remove_viewer(viewer)
        self.gop.clear()
        self._times.clear()
        self.lip_sync.reset()
        self._changed.set()

    # -- ReaderSink ---------------------------------------------------------------------------

    def track_changed(self, track: TrackInfo) -> None:
        if track.kind == "video":
            self.choice.source_track(track)
            self.lip_sync.hold = True
        elif track != self._audio_source:
            self._audio_source = track
            self._stop_opus()
            if track.codec != "opus" and self.viewers:
                self._start_opus(track)
        self._changed.set()

    def discontinuity(self) -> None:
        """Another publish: new times, a new choice, a new Opus encoder."""
        self.clock.discontinuity()
        self.choice.publish_changed()
        self._times.clear()
        self.lip_sync.reset()
        self.lip_sync.hold = False
        self.gop.clear()
        self._serving = None
        self._audio_source = None
        self._stop_opus()
        self._changed.set()

    def frame(self, frame: Frame) -> None:
        self._follow_pipeline()
        time = self.clock.media_time(frame.pts, frame.track.timescale)
        if not frame.is_video:
            if frame.track.codec == "opus":
                self._audio(frame.payload, time)
            elif self._opus is not None:
                self._opus.push(frame)
            return
        self.choice.reorder.frame(frame)
        self._times[frame.pts] = time
        if len(self._times) > TIMES_KEPT:
            self._times.popitem(last=False)
        if self.choice.wanted == SOURCE:
            self._video(SOURCE, frame, time)
        elif self._serving == SOURCE:  # B-frames showed: no more source pictures
            self._serving = None
            self.gop.clear()
            self._changed.set()

    def encoded(self, name: str, frame: Frame) -> None:
        """The pipeline's encoded-frame listener: a rung's picture (its audio is not ours)."""
        if not frame.is_video or self.closed:
            return
        known = name in self.choice.rungs
        self.choice.rung_frame(name, frame)
        if not known:
            self._changed.set()
        if self.choice.wanted != name:
            return
        time = self._times.get(frame.pts)
        if time is not None:
            self._video(name, frame, time)

    # -- output --------------------------------------------------------------------------------

    def _video(self, name: str, frame: Frame, time: Fraction) -> None:
        if self._serving != name:
            if not frame.keyframe:
                return
            self._serving = name
            self.gop.clear()
            self._changed.set()
        ts = self.clock.video(time)
        self.gop.push(frame)
        self._newest_video = ts
        if not self.viewers:
            if frame.keyframe:
                self._changed.set()
            return  # kept warm for the next viewer's join: nothing to convert yet
        data = self._annex_b(frame)
        if data is None:
            return
        unit = WhepUnit("video", ts, frame.keyframe, data)
        for viewer in self.viewers:
            viewer.offer(unit)
        for audio in self.lip_sync.video(unit.seconds):
            self._hand_out(audio)
        if frame.keyframe:
            self._changed.set()

    def _audio(self, payload: bytes, time: Fraction) -> None:
        ts = self.clock.audio(time)
        if ts is None:
            return
        for unit in self.lip_sync.audio(WhepUnit("audio", ts, True, payload)):
            self._hand_out(unit)

    def _hand_out(self, unit: WhepUnit) -> None:
        for viewer in self.viewers:
            viewer.offer(unit)

    def _annex_b(self, frame: Frame) -> bytes | None:
        try:
            return to_annex_b(frame.payload, frame.track.config)
        except BitstreamError:
            self.corrupt_pictures += 1
            return None

    # -- collaborators ----------------------------------------------------------------------

    def _follow_pipeline(self) -> None:
        """Listen to the stream's current pipeline (a released stream gets a new one)."""
        pipeline = self._pipeline_of()
        if pipeline is self._listened:
            return
        if self._unlisten is not None:
            self._unlisten()
        self._listened = pipeline
        self._unlisten = pipeline.add_encoded_listener(self.encoded) if pipeline else None

    def _start_opus(self, track: TrackInfo) -> None:
        generation = self._opus_generation
        hop = self._hop

        def deliver(frame: Frame) -> None:  # on the encoder's thread
            hop(lambda: self._opus_frame(generation, frame))

        self._opus = self._opus_factory(track, deliver)
        self._opus.start()
        self.opus_encoders += 1

    def _opus_frame(self, generation: int, frame: Frame) -> None:
        if generation != self._opus_generation or self.closed:
            return  # a replaced encoder's tail belongs to a finished timeline
        self._audio(frame.payload, self.clock.media_time(frame.pts, frame.track.timescale))

    def _stop_opus(self) -> None:
        if self._opus is not None:
            self._opus.stop(wait=False)
            self._opus = None
            self._opus_generation += 1
