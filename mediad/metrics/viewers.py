"""``mediad_viewers{stream,protocol}``, read at scrape time from what already counts them:
LL-HLS players from the viewer counts (a player is a viewer seen requesting a playlist
within the counts' ttl), WebRTC from the stream's WHEP feed (its sessions), WebSockets
from the hub (sockets joined to the stream's channel on this process).

One series per protocol for every stream the daemon holds that has not ended: an ended
stream yields nothing, so its series vanish. O(streams): each figure is a length."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mediad.realtime.hub import Hub
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.streams import StreamRegistry

WebRtcViewers = Callable[[str], dict[str, int] | None]
"""A stream's WHEP figures (``viewers`` among them), or None where WebRTC is off."""


class ViewerCollector(Collector):
    def __init__(self, registry: StreamRegistry, viewers: ViewerCounts, hub: Hub,
                 webrtc: WebRtcViewers) -> None:
        self._registry = registry
        self._viewers = viewers
        self._hub = hub
        self._webrtc = webrtc

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "mediad_viewers",
            "Viewers of the stream on this process now, by protocol (hls: LL-HLS players "
            "seen in the last 15 s; webrtc: WHEP sessions; websocket: real-time sockets).",
            labels=["stream", "protocol"])
        for live in self._registry.live_streams():
            if live.state == "ended":
                continue
            stream_id = live.stream_id
            family.add_metric([stream_id, "hls"], self._viewers.players(stream_id))
            webrtc = self._webrtc(stream_id)
            if webrtc is not None:
                family.add_metric([stream_id, "webrtc"], webrtc.get("viewers", 0))
            family.add_metric([stream_id, "websocket"],
                              self._hub.stream_subscribers(stream_id))
        yield family
