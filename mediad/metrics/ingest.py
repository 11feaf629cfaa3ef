"""The ingest listeners' collectors, added once the daemon has made its listeners."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.rtmp.server import RtmpServer
from ingest.srt.server import SrtServer
from mediad.metrics.registry import DaemonMetrics
from mediad.metrics.rtmp import RtmpCollector
from mediad.metrics.srt import SrtCollector
from mediad.streams import StreamRegistry

__all__ = ["add_ingest_collectors"]


def add_ingest_collectors(metrics: DaemonMetrics, registry: StreamRegistry,
                          services: Iterable[object]) -> None:
    for service in services:
        if isinstance(service, RtmpServer):
            metrics.add_collector(RtmpCollector(service))
        elif isinstance(service, SrtServer):
            metrics.add_collector(SrtCollector(service, registry))
