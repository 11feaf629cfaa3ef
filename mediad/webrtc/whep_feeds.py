"""The WHEP feeds of this process: one per stream on air, made when its publisher attaches
(so that a first viewer joins on the GOP kept warm, not at the next keyframe: an OBS source
served as is has 8 s GOPs), closed when the broadcast ends or the stream is deleted, which
also closes its WHEP sessions. With no viewer a feed only keeps the current GOP; the Opus
encoder of an AAC source runs only while someone listens.

Subscribed to the registry like the LL-HLS packaging: a publisher attaching to a stream
with a feed is read from (a reconnect continues the same viewers' sessions after a
discontinuity); ``BroadcastEnded`` and ``StreamRemoved`` end every WHEP session of the
stream, which frees the feed with its last viewer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from mediad.config import WebRtcConfig
from mediad.stream_events import BroadcastEnded, PublisherAttached, StreamRemoved, Subscription
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import LiveStream, StreamRegistry
from mediad.webrtc.sessions import WebRtcSessions
from mediad.webrtc.whep_feed import WhepFeed
from mediad.webrtc.whep_keyframes import KeyframeRequests
from mediad.webrtc.whep_viewer_queue import ViewerQueue

log = logging.getLogger("mediad.webrtc")


@dataclass(frozen=True, slots=True)
class WhepHealth:
    viewers: int
    falls: int
    """Times a viewer fell behind and dropped to the next keyframe."""
    dropped_units: int


class WhepFeeds:
    def __init__(self, settings: WebRtcConfig, registry: StreamRegistry,
                 pipelines: StreamPipelines, sessions: WebRtcSessions) -> None:
        self.settings = settings
        self.registry = registry
        self.pipelines = pipelines
        self.sessions = sessions
        self.feeds: dict[str, WhepFeed] = {}
        self._events: Subscription | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        events = self._events = self.registry.subscribe("whep")
        self._watcher = asyncio.get_running_loop().create_task(self._watch(events))

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        await self.sessions.close_all()
        for feed in list(self.feeds.values()):
            feed.close()
        self.feeds.clear()

    @property
    def ladder(self) -> bool:
        """Streams are transcoded: a stream without a WebRTC-playable source gets a rung."""
        transcode = self.pipelines.transcode
        return transcode is not None and bool(transcode.ladder)

    def feed(self, live: LiveStream) -> WhepFeed:
        """The stream's feed, made (and reading the stream) if it had none."""
        stream_id = live.stream_id
        feed = self.feeds.get(stream_id)
        if feed is None:
            loop = asyncio.get_running_loop()

            def publishers() -> list[object]:
                current = self.registry.get(stream_id)
                return [current.publisher] if current and current.publisher else []

            feed = self.feeds[stream_id] = WhepFeed(
                stream_id, queue_frames=self.settings.viewer_queue_frames,
                pipeline=lambda: self.pipelines.get(stream_id),
                hop=loop.call_soon_threadsafe, keyframes=KeyframeRequests(publishers))
            log.info("webrtc feed started", extra={"fields": {"stream": stream_id}})
        if live.publishing:
            feed.attach(live)
        return feed

    def leave(self, feed: WhepFeed, viewer: ViewerQueue) -> None:
        feed.remove_viewer(viewer)
        if feed.closed and self.feeds.get(feed.stream_id) is feed:
            del self.feeds[feed.stream_id]

    def health_message(self, stream_id: str) -> dict[str, int]:
        """The ``webrtc`` part of the stream's ``health`` message."""
        health = self.health(stream_id)
        return {"viewers": health.viewers, "falls": health.falls,
                "droppedUnits": health.dropped_units}

    def health(self, stream_id: str) -> WhepHealth:
        feed = self.feeds.get(stream_id)
        if feed is None:
            return WhepHealth(0, 0, 0)
        return WhepHealth(len(feed.viewers), feed.falls, feed.dropped_units)

    async def _watch(self, events: Subscription) -> None:
        async for event in events:
            if isinstance(event, PublisherAttached):
                live = self.registry.get(event.stream_id)
                if live is not None and live.publishing:
                    self.feed(live)
            elif isinstance(event, BroadcastEnded | StreamRemoved):
                reason = ("the broadcast ended" if isinstance(event, BroadcastEnded)
                          else "the stream was deleted")
                await self.sessions.close_stream(event.stream_id, reason, "whep")
                feed = self.feeds.pop(event.stream_id, None)
                if feed is not None:
                    feed.close()
                    log.info("webrtc feed ended", extra={"fields": {
                        "stream": feed.stream_id, "falls": feed.falls}})
