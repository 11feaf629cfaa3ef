"""Runs a packager pipeline for every stream that has a publisher.

One more reader per live stream (mediamtx's HLS muxer is the model), subscribed to the
registry's change events: when a publisher attaches, a feed task moves its frames into the
stream's ``StreamPipeline``. When the publisher goes away the playlists stay open so that a
reconnecting encoder continues them (players see a discontinuity, not an end) until the
registry ends the broadcast (``BroadcastEnded``: the reconnect grace passed, or the creator
ended it), when they get EXT-X-ENDLIST. A stream in preview has no grace in the lifecycle:
its playlists end after ``preview_grace_sec`` without a publisher. ``hls.ended_retention_sec``
after the end, the media leave memory and the URLs answer 404 (a deleted stream's at once).
A track that no pipeline could package is refused when it is announced (``track_check``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping

from ingest.media import Frame, TrackInfo
from mediad.config import HlsConfig, TranscodeConfig
from mediad.fanout import drain
from mediad.freed_memory import give_back_freed_memory
from mediad.lifecycle import ON_AIR
from mediad.live_stream import TrackCheck
from mediad.store import Store
from mediad.stream_events import (
    BroadcastEnded,
    PublisherAttached,
    StreamRemoved,
    Subscription,
)
from mediad.streams import LiveStream, StreamRegistry
from packager.ladder_plan import SourceRate
from packager.llhls import PlaylistSettings, Segment
from packager.pipeline import StreamPipeline
from packager.segmenter import Segmenter
from packager.support import refusal

log = logging.getLogger("mediad.hls")

READER_CAPACITY = 1200
"""Frames queued for the packager; it works synchronously per frame, so this only fills
when the event loop itself is starved."""


TRIM_AFTER_SEC = 1.0
"""Released media are handed back to the system this long after a release."""


def system_wall_clock(arrival: float) -> float:
    """Unix time of a monotonic reading (the ingest arrival of a frame)."""
    return time.time() - (time.monotonic() - arrival)


def source_rate(metadata: Mapping[str, object]) -> SourceRate:
    """The video rate a publisher announces in its RTMP ``onMetaData`` (OBS and ffmpeg send
    ``framerate`` and ``videodatarate`` in kbit/s); 0 for what it does not say."""
    def number(key: str) -> float:
        value = metadata.get(key)
        return float(value) if isinstance(value, int | float) and value > 0 else 0.0
    return SourceRate(fps=number("framerate"), kbps=number("videodatarate"))


def track_check(transcode: TranscodeConfig) -> TrackCheck:
    """What the registry asks of each announced track: can these pipelines package it?"""
    audio_to_aac = transcode.enabled and bool(transcode.ladder)
    return functools.partial(refusal, audio_to_aac=audio_to_aac)


StreamSegmentListener = Callable[[str, str, Segmenter, Segment], None]
"""Told of every segment any stream's rendition completes, on the event loop: the stream,
the rendition, its segmenter (the playlist holds the init section) and the segment."""


class _PipelineSink:
    """One feed's reader items into the stream's pipeline."""

    def __init__(self, pipeline: StreamPipeline, live: LiveStream,
                 ready: Callable[[], None]) -> None:
        self.pipeline = pipeline
        self.live = live
        self.ready = ready
        """Wakes requests waiting for the pipeline to be servable."""

    def frame(self, frame: Frame) -> None:
        self.pipeline.push(frame)
        if self.pipeline.ready:
            self.ready()

    def track_changed(self, track: TrackInfo) -> None:
        self.pipeline.track_changed(track, source_rate(self.live.metadata))

    def discontinuity(self) -> None:
        self.pipeline.publisher_changed()


class StreamPipelines:
    def __init__(self, config: HlsConfig, registry: StreamRegistry, store: Store,
                 wall_clock: Callable[[float], float] = system_wall_clock, *,
                 transcode: TranscodeConfig | None = None,
                 preview_grace_sec: float = 30.0) -> None:
        self.config = config
        self.preview_grace_sec = preview_grace_sec
        self.transcode = transcode if transcode is not None and transcode.enabled else None
        self.registry = registry
        self.store = store
        self.wall_clock = wall_clock
        self.pipelines: dict[str, StreamPipeline] = {}
        self._feeds: dict[str, asyncio.Task[None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        """Per stream, what happens next without a publisher: the end of a preview's
        playlists, or the release of an ended stream's media."""
        self._ready: dict[str, asyncio.Event] = {}
        self._trim: asyncio.TimerHandle | None = None
        self._events: Subscription | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._segment_listeners: list[StreamSegmentListener] = []
        self._end_listeners: list[Callable[[str], None]] = []

    def add_segment_listener(self, listener: StreamSegmentListener) -> None:
        """``listener`` hears every segment completed from now on (the recorder)."""
        self._segment_listeners.append(listener)

    def add_end_listener(self, listener: Callable[[str], None]) -> None:
        """``listener`` hears the stream id whenever a stream's packaging ends (ENDLIST,
        after its last segments were completed)."""
        self._end_listeners.append(listener)

    def _end_pipeline(self, stream_id: str, pipeline: StreamPipeline) -> None:
        if pipeline.ended:
            return
        pipeline.end()
        for listener in tuple(self._end_listeners):
            try:
                listener(stream_id)
            except Exception:
                log.exception("end listener failed", extra={"fields": {"stream": stream_id}})

    def _segment_done(self, stream_id: str, rendition: str, member: Segmenter,
                      segment: Segment) -> None:
        for listener in tuple(self._segment_listeners):
            try:
                listener(stream_id, rendition, member, segment)
            except Exception:  # a listener's bug must not stop the packaging
                log.exception("segment listener failed", extra={"fields": {
                    "stream": stream_id, "rendition": rendition}})

    async def start(self) -> None:
        events = self._events = self.registry.subscribe("hls")
        self._watcher = asyncio.get_running_loop().create_task(self._watch(events))

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        for handle in self._timers.values():
            handle.cancel()
        if self._trim is not None:
            self._trim.cancel()
        feeds = list(self._feeds.values())
        for task in feeds:
            task.cancel()
        await asyncio.gather(*feeds, return_exceptions=True)
        for pipeline in self.pipelines.values():
            pipeline.end()

    async def _watch(self, events: Subscription) -> None:
        async for event in events:
            if isinstance(event, PublisherAttached):
                self._start_feed(event.stream_id)
            elif isinstance(event, BroadcastEnded) and event.stream_id not in self._feeds:
                self._end(event.stream_id, event.reason)  # no feed to see the end
            elif isinstance(event, StreamRemoved):
                self._release(event.stream_id)  # a deleted stream's media go at once

    def get(self, stream_id: str) -> StreamPipeline | None:
        return self.pipelines.get(stream_id)

    async def wait_pipeline(self, stream_id: str, within: float) -> StreamPipeline | None:
        """The stream's pipeline once it can be served (first segment done), or None."""
        pipeline = self.pipelines.get(stream_id)
        if pipeline is not None and pipeline.ready:
            return pipeline
        live = self.registry.get(stream_id)
        if (live is None or not live.publishing) and stream_id not in self._feeds:
            return None  # not servable now, and nothing is coming that could make it so
        event = self._ready.setdefault(stream_id, asyncio.Event())
        try:
            async with asyncio.timeout(within):
                await event.wait()
        except TimeoutError:
            return None
        pipeline = self.pipelines.get(stream_id)
        return pipeline if pipeline is not None and pipeline.ready else None

    def _start_feed(self, stream_id: str) -> None:
        live = self.registry.get(stream_id)
        if live is None or not live.publishing or stream_id in self._feeds:
            return
        task = asyncio.get_running_loop().create_task(self._feed(live))
        self._feeds[stream_id] = task
        task.add_done_callback(
            lambda done: self._feeds.pop(stream_id) if self._feeds.get(stream_id) is done
            else None)

    async def _pipeline_for(self, stream_id: str) -> StreamPipeline:
        pipeline = self.pipelines.get(stream_id)
        self._cancel_timer(stream_id)
        if pipeline is not None and not pipeline.ended:
            pipeline.publisher_changed()  # a reconnect within the grace period
            return pipeline
        stream = await self.store.streams.get(stream_id)
        dvr = float(stream.dvr_window_sec if stream else self.config.dvr_window_sec)
        settings = PlaylistSettings(
            part_target=self.config.part_duration_ms / 1000,
            segment_target=self.config.segment_duration_ms / 1000,
            dvr_window=dvr)
        transcode = self.transcode
        watermark = None
        if stream is not None and stream.watermark:
            owner = await self.store.users.get(stream.owner_id)
            watermark = f"@{owner.handle}" if owner else None
        pipeline = self.pipelines[stream_id] = StreamPipeline(
            settings, self.wall_clock, ladder=transcode.ladder if transcode else (),
            encoder=transcode.encoder if transcode else "libx264", watermark=watermark,
            audio_bitrate_kbps=transcode.audio_bitrate_kbps if transcode else 128,
            hop=asyncio.get_running_loop().call_soon_threadsafe)
        pipeline.renditions.add_segment_listener(
            functools.partial(self._segment_done, stream_id))
        log.info("packaging started", extra={"fields": {
            "stream": stream_id, "session": pipeline.session}})
        return pipeline

    async def _feed(self, live: LiveStream) -> None:
        stream_id = live.stream_id
        reader = live.add_reader("hls", READER_CAPACITY)
        final = False
        try:
            pipeline = await self._pipeline_for(stream_id)
            end = await drain(reader, _PipelineSink(
                pipeline, live, functools.partial(self._signal_ready, stream_id)))
            final = end is not None and end.final
        except Exception:
            log.exception("packaging failed", extra={"fields": {"stream": stream_id}})
            final = True
        finally:
            live.remove_reader(reader)
            if reader.dropped_frames:
                log.warning("packager fell behind", extra={"fields": {
                    "stream": stream_id, "dropped_frames": reader.dropped_frames}})
            self._feeds.pop(stream_id, None)
            self._signal_ready(stream_id)  # waiters re-check: ready, or no longer coming
        if final:
            self._end(stream_id, "ended by the creator")
            return
        pipeline.publisher_changed()
        if live.publishing:  # a new publisher attached while this feed wound down
            self._start_feed(stream_id)
        elif live.state == "ended":  # ended while this feed wound down
            self._end(stream_id, "the broadcast ended")
        elif live.state not in ON_AIR:  # on air, the registry's BroadcastEnded ends it
            self._timers[stream_id] = asyncio.get_running_loop().call_later(
                self.preview_grace_sec, self._end, stream_id, "no publisher came back")

    def _signal_ready(self, stream_id: str) -> None:
        event = self._ready.pop(stream_id, None)
        if event is not None:
            event.set()

    def _end(self, stream_id: str, reason: str) -> None:
        """ENDLIST everywhere; the media stay for players to finish, then go."""
        self._cancel_timer(stream_id)
        pipeline = self.pipelines.get(stream_id)
        if pipeline is None or pipeline.ended:
            return
        self._end_pipeline(stream_id, pipeline)
        self._signal_ready(stream_id)
        log.info("packaging ended", extra={"fields": {"stream": stream_id, "reason": reason}})
        self._timers[stream_id] = asyncio.get_running_loop().call_later(
            self.config.ended_retention_sec, self._release, stream_id)

    def _release(self, stream_id: str) -> None:
        """The stream's media leave memory and its playlists answer 404."""
        self._cancel_timer(stream_id)
        pipeline = self.pipelines.pop(stream_id, None)
        if pipeline is None:
            return
        self._end_pipeline(stream_id, pipeline)
        self._signal_ready(stream_id)
        log.info("packaging released", extra={"fields": {
            "stream": stream_id, "session": pipeline.session}})
        del pipeline
        if self._trim is None:  # one trim for the streams released together
            self._trim = asyncio.get_running_loop().call_later(TRIM_AFTER_SEC, self._give_back)

    def _give_back(self) -> None:
        self._trim = None
        give_back_freed_memory()

    def _cancel_timer(self, stream_id: str) -> None:
        handle = self._timers.pop(stream_id, None)
        if handle is not None:
            handle.cancel()
