"""Token buckets keyed by chatter, account or address (chat, sign-in, API writes, player
reports); the caller passes the clock."""

from __future__ import annotations

from dataclasses import dataclass

from mediad.metrics.realtime import RATELIMIT_REFUSALS


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``rate`` actions per ``per`` seconds, with bursts of up to ``rate``."""

    def __init__(self, rate: int, per: float, max_keys: int = 100_000, *,
                 limit: str | None = None) -> None:
        """``limit``: the name its refusals are counted under
        (``mediad_ratelimit_refusals_total{limit}``); None: not counted."""
        self._refusals = None if limit is None else RATELIMIT_REFUSALS.labels(limit)
        self.capacity = float(rate)
        self.refill = rate / per
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str, now: float) -> float:
        """0.0 and one token taken, or the seconds to wait before one is available."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.refill)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        if self._refusals is not None:
            self._refusals.inc()
        return (1.0 - bucket.tokens) / self.refill

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket: drop those first."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * self.refill >= self.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: a flood of keys; start over
            self._buckets.clear()
