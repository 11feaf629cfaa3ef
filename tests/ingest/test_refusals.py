"""RefusalLog with a fake clock: the first refusal of a peer is said at once, the retries
that follow are summed up once an interval, and a peer that stopped is forgotten."""

from __future__ import annotations

import pytest

from ingest.refusals import OTHER_PEERS, RefusalLog, RepeatedRefusals


def test_first_refusal_is_logged_at_once_and_retries_are_counted() -> None:
    log = RefusalLog(interval=10.0)
    assert log.refused("10.0.0.1", "unknown stream key", now=0.0)
    assert log.next_due() == 10.0
    # srt-live-transmit's pace: ten a second.
    assert not any(log.refused("10.0.0.1", "unknown stream key", now=i / 10) for i in range(1, 100))
    assert log.due(9.99) == []
    assert log.due(10.0) == [RepeatedRefusals("10.0.0.1", "unknown stream key", 99, 10.0)]
    assert log.next_due() == 20.0  # still retrying: the next window is open


def test_a_summary_reads_as_the_operator_expects() -> None:
    line = RepeatedRefusals("10.0.0.1", "unknown stream key", 99, 10.0).describe()
    assert line == "99 more refusals from 10.0.0.1 in the last 10 s: unknown stream key"
    assert RepeatedRefusals("h", "r", 1, 10.0).describe().startswith("1 more refusal from h")


def test_a_quiet_peer_is_forgotten_and_logged_at_once_next_time() -> None:
    log = RefusalLog(interval=10.0)
    assert log.refused("10.0.0.1", "bad key", now=0.0)
    assert log.due(10.0) == []  # nothing was held back
    assert log.next_due() is None
    assert log.refused("10.0.0.1", "bad key", now=30.0)


def test_a_retry_storm_makes_one_line_an_interval() -> None:
    log = RefusalLog(interval=5.0)
    lines = 0
    now = 0.0
    while now < 150.0:  # 2.5 minutes at ten retries a second: 1,500 refusals
        lines += log.refused("127.0.0.1", "unknown application 'x'", now)
        lines += len(log.due(now))
        now = round(now + 0.1, 1)
    lines += len(log.flush(now))
    assert lines == 1 + 150 / 5


def test_peers_and_reasons_are_counted_apart() -> None:
    log = RefusalLog(interval=10.0)
    assert log.refused("10.0.0.1", "bad key", 0.0)
    assert log.refused("10.0.0.2", "bad key", 0.5)
    assert log.refused("10.0.0.1", "passphrase refused", 1.0)
    assert not log.refused("10.0.0.1", "bad key", 2.0)
    assert log.due(10.0) == [RepeatedRefusals("10.0.0.1", "bad key", 1, 10.0)]
    assert log.due(11.0) == []
    assert log.next_due() == 20.0


def test_a_flood_of_distinct_peers_is_bounded() -> None:
    log = RefusalLog(interval=10.0, max_peers=3)
    logged = [log.refused(f"10.0.0.{i}", "bad key", 0.0) for i in range(10)]
    assert logged == [True] * 3 + [False] * 7
    [overflow] = [r for r in log.due(10.0) if r.peer == OTHER_PEERS]
    assert overflow.count == 7


def test_flush_says_every_held_back_refusal() -> None:
    log = RefusalLog(interval=10.0)
    log.refused("10.0.0.1", "bad key", 0.0)
    log.refused("10.0.0.1", "bad key", 1.0)
    assert log.flush(3.0) == [RepeatedRefusals("10.0.0.1", "bad key", 1, 3.0)]
    assert log.next_due() is None


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RefusalLog(interval=0)
