"""The token buckets that chat, sign-in, API writes and player reports all use."""

from __future__ import annotations

import pytest

from mediad.ratelimit import RateLimiter


def test_rate_limiter_bursts_then_refills() -> None:
    limiter = RateLimiter(3, 60.0)
    assert [limiter.acquire("k", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", 0.0) == pytest.approx(20.0)
    assert limiter.acquire("other", 0.0) == 0.0
    assert limiter.acquire("k", 19.0) == pytest.approx(1.0)
    assert limiter.acquire("k", 20.0) == 0.0


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(2, 1.0, max_keys=100)
    for n in range(1000):
        limiter.acquire(f"k{n}", n * 0.001)
    assert len(limiter._buckets) <= 100


def test_a_full_table_forgets_refilled_keys_but_not_a_busy_one() -> None:
    limiter = RateLimiter(2, 10.0, max_keys=2)  # 0.2 tokens a second
    assert limiter.acquire("quiet", 0.0) == 0.0
    assert limiter.acquire("busy", 4.0) == 0.0
    assert limiter.acquire("busy", 4.0) == 0.0
    # At 5 s "quiet" is full again and goes; "busy" is still 0.8 tokens short and stays.
    assert limiter.acquire("newcomer", 5.0) == 0.0
    assert limiter.acquire("busy", 5.0) == pytest.approx(4.0)


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    limiter = RateLimiter(2, 1.0)
    limiter.acquire("k", 0.0)
    waits = [limiter.acquire("k", 3600.0) for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(0.5)
