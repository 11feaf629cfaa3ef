"""mediad's own command line with a probe on ``GET /metrics``, for ``bench/metrics.py``:
each render of the daemon's registry, and each collector's share of it, timed in the event
loop's thread (``time.thread_time``: CPU, so that another process taking the core does not
count) and by the clock. Written as JSON to ``$MEDIAD_BENCH_SCRAPES`` when the daemon has
stopped:

    {"renders": [[at, cpu_s, wall_s, body_bytes, {collector: cpu_s, ...}], ...],
     "handlers": [[at, cpu_s, wall_s], ...]}

A collector's time is its ``collect()`` (the metrics it yields, materialized), CPU only; the
rest of a render is prometheus_client formatting the text.

    MEDIAD_BENCH_SCRAPES=FILE python -m bench.metrics_daemon --config X serve
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from bench.harness import serve_writing_report

SCRAPES_ENV = "MEDIAD_BENCH_SCRAPES"
EVENTS_NAME = "EVENTS (event instruments)"


Render = tuple[float, float, float, int, dict[str, float]]
"""(monotonic at, CPU s, wall s, body bytes, CPU s of each collector's ``collect()``)."""


@dataclass
class ScrapeProbe:
    renders: list[Render] = field(default_factory=list)
    handlers: list[tuple[float, float, float]] = field(default_factory=list)
    """(monotonic at, CPU s, wall s) of each ``GET /metrics`` handler: the whole request's
    work on the event loop (access check, render, response), which has no ``await``, so
    nothing else runs on the loop meanwhile."""
    collecting: dict[str, float] = field(default_factory=dict)
    """The render under way's collectors so far."""

    def timed(self, name: str, collect: Callable[[], Iterable[Metric]]
              ) -> Callable[[], Iterable[Metric]]:
        def collect_timed() -> Iterable[Metric]:
            cpu = time.thread_time()
            metrics = list(collect())
            self.collecting[name] = self.collecting.get(name, 0.0) + time.thread_time() - cpu
            return metrics

        return collect_timed

    def to_json(self) -> dict[str, Any]:
        return {"renders": self.renders, "handlers": self.handlers}


def collector_name(collector: Collector) -> str:
    kind = type(collector)
    return f"{kind.__module__}.{kind.__qualname__}"


def time_collectors(probe: ScrapeProbe, events: CollectorRegistry) -> None:
    """Every collector registered into a registry other than the event instruments' and
    prometheus_client's global one (that is, into the daemon's) gets its ``collect`` timed:
    on the instance, or on its class where ``__slots__`` forbids that (then every instance
    of the class adds to one name)."""
    register = CollectorRegistry.register
    patched: set[type[Collector]] = set()

    def register_timed(registry: CollectorRegistry, collector: Collector) -> None:
        if registry is not events and registry is not REGISTRY:
            name = EVENTS_NAME if collector is events else collector_name(collector)
            try:
                setattr(collector, "collect",  # noqa: B010 -- a probe on one instance
                        probe.timed(name, collector.collect))
            except (AttributeError, TypeError):  # TypeError: a frozen slots dataclass
                kind = type(collector)
                if kind in patched:
                    return register(registry, collector)
                patched.add(kind)
                original = kind.collect

                def collect_class(self: Collector) -> Iterable[Metric]:
                    return probe.timed(name, lambda: original(self))()

                setattr(kind, "collect", collect_class)  # noqa: B010 -- slots: on the class
        register(registry, collector)

    setattr(CollectorRegistry, "register", register_timed)  # noqa: B010 -- a probe


def time_renders(probe: ScrapeProbe) -> None:
    from mediad.metrics.registry import DaemonMetrics

    render = DaemonMetrics.render

    def render_timed(self: DaemonMetrics) -> bytes:
        probe.collecting = {}
        at, cpu, wall = time.monotonic(), time.thread_time(), time.perf_counter()
        body = render(self)
        probe.renders.append((at, time.thread_time() - cpu, time.perf_counter() - wall,
                              len(body), probe.collecting))
        return body

    setattr(DaemonMetrics, "render", render_timed)  # noqa: B010 -- a probe, not a subclass


def time_handlers(probe: ScrapeProbe) -> None:
    from aiohttp import web

    from mediad.http.app import Handler
    from mediad.metrics import setup
    from mediad.metrics.access import MetricsAccess
    from mediad.metrics.registry import DaemonMetrics

    make_handler: Callable[[DaemonMetrics, MetricsAccess], Handler] = getattr(  # noqa: B009
        setup, "metrics_handler")  # the name setup calls, imported there from routes

    def make_timed(metrics: DaemonMetrics, access: MetricsAccess) -> Handler:
        handler = make_handler(metrics, access)

        async def timed(request: web.Request) -> web.StreamResponse:
            at, cpu, wall = time.monotonic(), time.thread_time(), time.perf_counter()
            try:
                return await handler(request)
            finally:
                probe.handlers.append((at, time.thread_time() - cpu,
                                       time.perf_counter() - wall))

        return timed

    setattr(setup, "metrics_handler", make_timed)  # noqa: B010 -- a probe on setup's name


def main() -> int:
    from mediad.metrics.registry import EVENTS

    probe = ScrapeProbe()
    time_collectors(probe, EVENTS)
    time_renders(probe)
    time_handlers(probe)
    return serve_writing_report(SCRAPES_ENV, probe.to_json)


if __name__ == "__main__":
    sys.exit(main())
