"""IntervalCounts with a fake clock: the first event of a key is said at once, the rest are
counted per interval with their addresses, quiet keys are forgotten, and floods of keys or
addresses cost bounded memory."""

from __future__ import annotations

from ingest.cap_log import CapHits, CapLog
from ingest.interval_counts import OTHER_ADDRESSES, IntervalCounts


def test_first_said_then_counted_then_forgotten_when_quiet() -> None:
    counts: IntervalCounts[str] = IntervalCounts("other", 10.0)
    assert counts.hit("busy", "a", 0.0)
    assert not counts.hit("busy", "a", 1.0) and not counts.hit("busy", "b", 2.0)
    assert counts.next_due() == 10.0 and counts.due(9.9) == []
    [(key, counted)] = counts.due(10.0)
    assert (key, counted.count, dict(counted.peers), counted.seconds) == (
        "busy", 2, {"a": 1, "b": 1}, 10.0)
    assert counts.next_due() == 20.0, "still busy: the next interval is open"
    assert counts.due(20.0) == [] and counts.next_due() is None, "quiet: forgotten"
    assert counts.hit("busy", "a", 21.0), "said at once again"


def test_floods_of_keys_and_addresses_are_bounded() -> None:
    counts: IntervalCounts[str] = IntervalCounts("other", 10.0, max_keys=2, max_peers=2)
    assert counts.hit("k1", "a", 0.0) and counts.hit("k2", "a", 0.0)
    for n in range(100):
        assert not counts.hit(f"k{n + 3}", f"10.0.0.{n}", 0.0)
        assert not counts.hit("k1", f"10.0.1.{n}", 0.0)
    closed = dict(counts.flush(1.0))
    assert closed["other"].count == 100 and len(closed["other"].peers) == 3
    assert closed["k1"].peers[OTHER_ADDRESSES] == 98
    assert counts.next_due() is None


def test_a_cap_summary_names_the_busiest_address() -> None:
    caps = CapLog(interval=5.0)
    assert caps.hit("http per address", "10.0.0.1", 0.0)
    for _ in range(3):
        caps.hit("http per address", "10.0.0.1", 1.0)
    caps.hit("http per address", "10.0.0.2", 2.0)
    assert caps.due(5.0) == [CapHits("http per address", 4, 2, "10.0.0.1", 3, 5.0)]
