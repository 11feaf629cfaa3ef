"""The player-quality series (metrics contract, Part C) read at scrape time from
``PlayerQuality``: per stream while it is live, nothing once it ended (its figures are
forgotten then, so the series vanish and the streams held stay bounded)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mediad.metrics.quality import PlayerQuality

IsLive = Callable[[str], bool]
"""Whether a stream is live (its pipeline exists and has not ended)."""


class QualityCollector(Collector):
    def __init__(self, quality: PlayerQuality, is_live: IsLive) -> None:
        self._quality = quality
        self._is_live = is_live

    def collect(self) -> Iterable[Metric]:
        sessions = GaugeMetricFamily(
            "mediad_player_sessions", "Players that reported (CMCD or reports) in the last "
            "minute.", labels=["stream"])
        renditions = GaugeMetricFamily(
            "mediad_player_rendition_sessions", "Those players by the rendition they play.",
            labels=["stream", "rendition"])
        stalls = CounterMetricFamily(
            "mediad_player_stalls_total", "Playback stalls players reported (CMCD bs or "
            "their reports) over the broadcast.", labels=["stream"])
        viewing = CounterMetricFamily(
            "mediad_player_viewing_seconds_total", "Time players spent playing over the "
            "broadcast (stalls per viewer-minute = 60 * rate(stalls) / rate(this)).",
            labels=["stream"])
        buffer = GaugeMetricFamily(
            "mediad_player_buffer_seconds", "Median buffer length of the reporting players.",
            labels=["stream"])
        throughput = GaugeMetricFamily(
            "mediad_player_throughput_bps", "Median throughput the reporting players "
            "measured.", labels=["stream"])
        self._quality.prune(self._is_live)  # an ended stream yields nothing
        for stream_id in self._quality.stream_ids():
            figures = self._quality.quality(stream_id)
            if figures is None:
                continue
            sessions.add_metric([stream_id], figures.sessions)
            for rendition, count in figures.renditions.items():
                renditions.add_metric([stream_id, rendition], count)
            stalls.add_metric([stream_id], figures.stalls)
            viewing.add_metric([stream_id], figures.viewing_sec)
            if figures.buffer_sec is not None:
                buffer.add_metric([stream_id], figures.buffer_sec)
            if figures.throughput_bps is not None:
                throughput.add_metric([stream_id], figures.throughput_bps)
        yield from (sessions, renditions, stalls, viewing, buffer, throughput)
