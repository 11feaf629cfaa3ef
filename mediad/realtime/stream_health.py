"""The stream health service: every ``realtime.health_interval_sec`` each publishing
stream's health (``health.py``) is stored and broadcast, with the encoder advice of the
moment (``encoder_watch.py``); the latest sample of each stream, from whichever process took
it, is kept for clients that join."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mediad.background import Periodic
from mediad.clock import iso_utc, now_ms
from mediad.encoder_advice import Advice
from mediad.realtime import messages as m
from mediad.realtime.health import Counters, sample
from mediad.realtime.publisher_health import PublisherHealth
from mediad.realtime.recorder import Recorder
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from packager.pipeline import StreamPipeline

log = logging.getLogger("mediad.realtime")

PipelineLookup = Callable[[str], StreamPipeline | None]
"""The packager pipeline of a stream, if it has one (its transcoder rungs' counters)."""
AdviceLookup = Callable[[str], list[Advice]]
"""The encoder advice for a stream's publisher now."""
WebRtcLookup = Callable[[str], dict[str, int] | None]
"""A stream's WHEP figures (``viewers``, ``falls``, ``droppedUnits``), where WebRTC is on."""
RecordingLookup = Callable[[str], dict[str, Any] | None]
"""What the recorder says of a stream's broadcast recording (its ``warning`` when the disk
fell behind or failed), while it records."""
QualityLookup = Callable[[str], dict[str, Any] | None]
"""What the stream's players report of their playback (``PlayerQuality``: sessions,
rendition mix, stalls per viewer-minute, median buffer), once any did."""


class StreamHealth:
    def __init__(self, interval_sec: float, store: Store, registry: StreamRegistry,
                 recorder: Recorder, viewers: ViewerCounts, *,
                 pipelines: PipelineLookup = lambda stream_id: None,
                 advice: AdviceLookup = lambda stream_id: [],
                 webrtc: WebRtcLookup = lambda stream_id: None,
                 recording: RecordingLookup = lambda stream_id: None,
                 quality: QualityLookup = lambda stream_id: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_sec = interval_sec
        self._store = store
        self._registry = registry
        self._recorder = recorder
        self._viewers = viewers
        self._pipelines = pipelines
        self._advice = advice
        self._webrtc = webrtc
        self._recording = recording
        self._quality = quality
        self._clock = clock
        self._counters: dict[str, Counters] = {}
        self._publishers = PublisherHealth()
        self._latest: dict[str, m.Message] = {}
        self._sampler = Periodic(self.sample, interval_sec, log=log,
                                 failure="health sampling failed")

    async def start(self) -> None:
        self._sampler.start()

    async def stop(self) -> None:
        await self._sampler.stop()

    def latest(self, stream_id: str) -> m.Message | None:
        """The stream's last ``health`` message, for a client that joins."""
        return self._latest.get(stream_id)

    def remember(self, stream_id: str, message: m.Message) -> None:
        """A ``health`` message on the bus (this process's or another's)."""
        self._latest[stream_id] = message

    async def sample(self) -> None:
        """One round: the health of every publishing stream since the previous round."""
        for live in self._registry.live_streams():
            stream_id = live.stream_id
            if not live.publishing:
                self._counters.pop(stream_id, None)
                continue
            after = self._read_counters(live)
            publishers = self._publishers.entries(live)  # every round: rates from the first
            before = self._counters.get(stream_id)
            self._counters[stream_id] = after
            if before is None:
                continue
            health = sample(before, after)
            viewers = self._viewers.total(stream_id)
            at = now_ms()
            await self._store.health.add(stream_id, at, health.bitrate_kbps, health.fps,
                                         health.drop_rate, viewers)
            message: m.Message = {
                "type": m.HEALTH, "at": iso_utc(at), "bitrateKbps": health.bitrate_kbps,
                "fps": health.fps, "dropRate": health.drop_rate, "viewers": viewers,
                "advice": [a.as_message() for a in self._advice(stream_id)],
                "publishers": publishers}
            webrtc = self._webrtc(stream_id)
            if webrtc is not None:
                message["webrtc"] = webrtc
            recording = self._recording(stream_id)
            if recording is not None:
                message["recording"] = recording
            quality = self._quality(stream_id)
            if quality is not None:
                message["quality"] = quality
            await self._recorder.broadcast(stream_id, message)

    def _read_counters(self, live: LiveStream) -> Counters:
        pipeline = self._pipelines(live.stream_id)
        drops: dict[str, int] = {}
        encoded: dict[str, int] = {}
        if pipeline is not None:
            health = pipeline.health()
            drops = dict(health.dropped_pictures)
            encoded = dict(health.encoded)
        return Counters(self._clock(), live.stats.bytes, live.stats.frames,
                        live.stats.video_frames, live.dropped_frames, drops, encoded)
