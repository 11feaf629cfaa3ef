"""Per-stream SRT link figures (``mediad_srt_*``), read at scrape time from the connection of
each stream's active SRT publisher (``ingest.srt.connection.SrtConnection``'s counters, the
ones its close line logs). A stream fed by another protocol, or whose SRT caller is the
hot standby, has none; a reconnect is a new connection, so the counters start again from 0
(a counter reset, which ``rate()`` handles)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.srt.server import SrtServer
from mediad.streams import StreamRegistry

__all__ = ["SrtCollector"]

STREAM = ["stream"]


class SrtCollector(Collector):
    def __init__(self, server: SrtServer, registry: StreamRegistry) -> None:
        self._server = server
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        rtt = GaugeMetricFamily(
            "mediad_srt_rtt_seconds", "Smoothed round-trip time to the SRT caller (from "
            "ACK/ACKACK; 0.1 s, SRT's initial estimate, until the first sample).",
            labels=STREAM)
        received = CounterMetricFamily(
            "mediad_srt_packets_received", "SRT data packets received (retransmissions and "
            "duplicates included).", labels=STREAM)
        lost = CounterMetricFamily(
            "mediad_srt_packets_lost", "SRT data packets found missing (sequence gaps), "
            "whether a retransmission recovered them or not.", labels=STREAM)
        retransmitted = CounterMetricFamily(
            "mediad_srt_packets_retransmitted", "SRT data packets received as "
            "retransmissions.", labels=STREAM)
        dropped = CounterMetricFamily(
            "mediad_srt_packets_dropped_late", "SRT data packets given up: not recovered "
            "before their play time (TSBPD), or dropped by the caller as too late.",
            labels=STREAM)
        for session, connection in self._server.publishing():
            live = self._registry.get(session.stream_id)
            if live is None or live.state == "ended" or live.publisher is not session:
                continue
            stream = [session.stream_id]
            rtt.add_metric(stream, connection.rtt)
            received.add_metric(stream, connection.packets)
            lost.add_metric(stream, connection.lost)
            retransmitted.add_metric(stream, connection.retransmitted)
            dropped.add_metric(stream, connection.dropped)
        yield from (rtt, received, lost, retransmitted, dropped)
