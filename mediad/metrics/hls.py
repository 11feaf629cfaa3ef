"""LL-HLS request metrics: every answer under ``/hls/`` by kind and status, and how long the
blocking requests (a playlist reload waiting for ``_HLS_msn``/``_HLS_part``, a preload-hint
part, a playlist not ready yet) were held and how late they were answered after the part
or segment they waited for was published.

A 503 is a blocking request that timed out (or a playlist that never became ready):
``mediad_hls_requests_total{status="503"}``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from mediad.metrics.registry import EVENTS
from packager.llhls import Hold

__all__ = ["BLOCKING_WAIT", "REQUESTS", "WAKEUP_DELAY", "count_answer", "held"]

REQUESTS = Counter(
    "mediad_hls_requests",
    "LL-HLS answers, by kind (multivariant, playlist, part, segment, init, other) and status.",
    ["kind", "status"], registry=EVENTS)

BLOCKING_WAIT = Histogram(
    "mediad_hls_blocking_wait_seconds",
    "How long a blocking playlist or part request was held before its answer (timeouts "
    "included).",
    buckets=(0.005, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=EVENTS)

WAKEUP_DELAY = Histogram(
    "mediad_hls_wakeup_delay_seconds",
    "From the part or segment a held request waited for being published to its answer.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=EVENTS)

_children: dict[tuple[str, str], Counter] = {}
"""``REQUESTS.labels(...)`` per kind and status, looked up once: an answer costs a dict
lookup and an increment (thousands of viewers make thousands of requests a second)."""


def count_answer(kind: str, status: int) -> None:
    key = (kind, str(status))
    child = _children.get(key)
    if child is None:
        child = _children[key] = REQUESTS.labels(*key)
    child.inc()


def held(hold: Hold, now: float, *, answered: bool) -> None:
    """A request that was held answers at ``now`` (the loop's clock); ``answered``: with
    what it waited for (not a timeout, nor a 404 for a part that never came)."""
    BLOCKING_WAIT.observe(max(0.0, now - hold.started))
    if answered and hold.woken_at is not None:
        WAKEUP_DELAY.observe(max(0.0, now - hold.woken_at))
