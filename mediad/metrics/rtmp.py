"""RTMP listener figures (``mediad_rtmp_*``), read at scrape time from ``RtmpServer``."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.rtmp.server import RtmpServer

__all__ = ["RtmpCollector"]


class RtmpCollector(Collector):
    def __init__(self, server: RtmpServer) -> None:
        self._server = server

    def collect(self) -> Iterable[Metric]:
        server = self._server
        connections = GaugeMetricFamily(
            "mediad_rtmp_connections", "Open RTMP connections: publishing (publish "
            "accepted), or pending (no publish accepted yet: handshake, connect, key check).",
            labels=["state"])
        connections.add_metric(["publishing"], server.publishing)
        connections.add_metric(["pending"], server.unauthenticated)
        yield connections
        yield CounterMetricFamily(
            "mediad_rtmp_connections_accepted", "RTMP connections admitted under the "
            "connection caps (their publish may still be refused).",
            value=server.accepted_connections)
        yield CounterMetricFamily(
            "mediad_rtmp_connections_refused", "RTMP connections refused: over a connection "
            "cap, or their application or stream key refused.",
            value=server.refused_connections + server.refused_publishes)
