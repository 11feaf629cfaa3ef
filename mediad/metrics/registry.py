"""Where metrics live.

Two kinds, as in prometheus_client:
- *Events* (a request answered, a chat message, a store query) are counted where they happen,
  on module-level instruments registered in ``EVENTS``. One daemon runs per process, so
  process-wide instruments are the daemon's; tests read their deltas.
- *State* (per stream and per rendition: bytes in, fps, queue depth, viewers) is read at
  scrape time by a ``Collector`` a component adds with ``DaemonMetrics.add_collector``. A
  stream that is gone yields nothing, so its series vanish with it and the label
  cardinality is bounded by what is live, without any bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mediad import __version__

# ``*_created`` gauges double the series of every counter and no dashboard reads them.
_disable_created: Callable[[], None] = disable_created_metrics
_disable_created()

EVENTS = CollectorRegistry(auto_describe=True)
"""Process-wide event instruments (``Counter(..., registry=EVENTS)``)."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text format every Prometheus reads (2.x included)."""


class _Build(Collector):
    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily("mediad_build_info", "mediad's version (always 1).",
                                 labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info


class DaemonMetrics:
    """One daemon's registry: the event instruments, the process, and the state collectors
    its components add. ``render`` is what a scrape returns."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(EVENTS)
        self.registry.register(_Build())
        ProcessCollector(registry=self.registry)  # CPU, RSS, open files, start time
        PlatformCollector(registry=self.registry)

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)

    def remove_collector(self, collector: Collector) -> None:
        self.registry.unregister(collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)
