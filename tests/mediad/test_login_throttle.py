"""The sign-in throttle's bookkeeping, on an injected clock."""

from __future__ import annotations

import pytest

from mediad.login_throttle import SUSPECT_SEC, FailureCounts, LoginThrottle, address_key


def test_failures_leak_away_at_their_rate() -> None:
    counts = FailureCounts(3, 60.0)
    for _ in range(3):
        assert counts.wait("a", 0.0) == 0.0
        counts.add("a", 0.0)
    assert counts.wait("a", 0.0) == pytest.approx(20.0)  # one failure leaks in 60/3 s
    assert counts.wait("a", 20.0) == 0.0
    assert counts.wait("b", 0.0) == 0.0


def test_the_owner_from_a_clean_address_is_not_held_up_by_guessers() -> None:
    throttle = LoginThrottle(per_address_per_minute=10, per_account_per_hour=20)
    for n in range(20):
        throttle.failed(f"198.51.100.{n % 5}", "dana", 0.0)
    assert throttle.wait("198.51.100.1", "dana", 1.0) > 0  # a guesser waits
    assert throttle.wait("203.0.113.7", "dana", 1.0) == 0.0  # the owner does not
    assert throttle.wait("198.51.100.1", "otto", 1.0) == 0.0  # nor another account
    throttle.failed("203.0.113.8", "dana", 2.0)  # a new guesser gets one try, then waits
    assert throttle.wait("203.0.113.8", "dana", 2.0) > 0


def test_an_address_stays_suspect_for_an_hour_after_it_failed() -> None:
    throttle = LoginThrottle(per_address_per_minute=10, per_account_per_hour=2)
    throttle.failed("192.0.2.1", "dana", 0.0)
    throttle.failed("192.0.2.2", "dana", 0.0)
    throttle.failed("192.0.2.2", "dana", 0.0)
    assert throttle.wait("192.0.2.1", "dana", 60.0) > 0
    assert throttle.wait("192.0.2.1", "dana", SUSPECT_SEC + 1) == 0.0


def test_a_success_clears_the_pair_but_not_the_address() -> None:
    throttle = LoginThrottle(per_address_per_minute=3, per_account_per_hour=1)
    throttle.failed("192.0.2.1", "dana", 0.0)
    assert throttle.wait("192.0.2.1", "dana", 1.0) > 0
    throttle.succeeded("192.0.2.1", "dana")
    assert throttle.wait("192.0.2.1", "dana", 1.0) == 0.0
    for _ in range(2):
        throttle.failed("192.0.2.1", "otto", 1.0)
    assert throttle.wait("192.0.2.1", "anyone", 1.0) > 0  # the address itself is out


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("unknown") == "unknown"
    throttle = LoginThrottle(per_address_per_minute=1, per_account_per_hour=100)
    throttle.failed("2001:db8:1:2::1", "dana", 0.0)
    assert throttle.wait("2001:db8:1:2::99", "otto", 0.0) > 0


def test_memory_is_bounded_under_a_flood_of_keys() -> None:
    throttle = LoginThrottle(per_address_per_minute=10, per_account_per_hour=20, max_keys=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", f"user{n}", float(n))
    assert len(throttle.addresses._levels) <= 100
    assert len(throttle.accounts._levels) <= 100
    assert len(throttle._suspects) <= 100
    assert ("10.0.3.231", "user999") in throttle._suspects  # the newest are kept
