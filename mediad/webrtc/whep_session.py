"""One WHEP viewer: its peer connection, its two tracks and its place in the stream's feed.
Closing (DELETE, ICE failure or timeout, the stream ending, shutdown) frees all of it and
stops counting the viewer."""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCPeerConnection

from mediad.webrtc.sessions import SessionKind
from mediad.webrtc.whep_feed import WhepFeed
from mediad.webrtc.whep_feeds import WhepFeeds
from mediad.webrtc.whep_tracks import WhepTrack
from mediad.webrtc.whep_viewer_queue import ViewerQueue


class WhepSession:
    kind: SessionKind = "whep"

    def __init__(self, session_id: str, stream_id: str, address: str, pc: RTCPeerConnection,
                 feeds: WhepFeeds, feed: WhepFeed, viewer: ViewerQueue) -> None:
        self.id = session_id
        self.stream_id = stream_id
        self.address = address
        self.pc = pc
        self.feeds = feeds
        self.feed = feed
        self.viewer = viewer
        self.tracks: list[WhepTrack] = []
        self.closed = False
        self.on_close: list[Callable[[], None]] = []

    async def close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.feeds.leave(self.feed, self.viewer)
        for track in self.tracks:
            track.stop()
        for callback in self.on_close:
            callback()
        self.on_close.clear()
        await self.pc.close()
