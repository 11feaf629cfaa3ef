"""The campaign's checks catch what they are there for: a lost acknowledged write, a gap,
a setting or ban rolled back, an old key back; and accept what a crash may do to a write
that was in flight."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chaos.ledger_testing import (
    Ledger,
    check_bans,
    check_event_log,
    check_key,
    check_settings,
)

pytestmark = pytest.mark.chaos

CHAT: dict[str, Any] = {"type": "chat.message", "id": "m1"}
TIP: dict[str, Any] = {"type": "tip", "id": 7}
BAN: dict[str, Any] = {"type": "moderation.ban", "target": {"id": "g:000000000001"}}


def acknowledged() -> Ledger:
    ledger = Ledger(chat={"m1": 1}, tips={"k1": (7, 2)})
    ledger.moderation.append((3, "ban", "g:000000000001"))
    return ledger


def test_the_event_log_holding_every_acknowledged_write_passes() -> None:
    assert check_event_log(acknowledged(), {1: CHAT, 2: TIP, 3: BAN}) == []


@pytest.mark.parametrize(("log", "found"), [
    ({2: TIP, 3: BAN}, "chat message m1"),
    ({1: CHAT, 2: {"type": "chat.message", "id": "other"}, 3: BAN}, "tip k1"),
    ({1: CHAT, 2: TIP, 3: {**BAN, "type": "moderation.unban"}}, "moderation.ban"),
    ({1: CHAT, 2: TIP, 3: BAN, 5: CHAT}, "gaps"),
])
def test_a_lost_write_or_a_gap_is_named(log: dict[int, dict[str, Any]], found: str) -> None:
    wrong = check_event_log(acknowledged(), log)
    assert any(found in line for line in wrong), wrong


SETTINGS = {"dvrWindowSec": 60, "ageRestricted": False, "guestsMayChat": True,
            "blockedWords": []}


def test_settings_are_the_acknowledged_ones_or_the_one_in_flight() -> None:
    in_flight = {**SETTINGS, "dvrWindowSec": 90}
    ledger = Ledger(settings=SETTINGS, settings_in_flight=[in_flight])
    assert check_settings(ledger, {**in_flight, "slowModeSec": 0}) == []
    assert ledger.settings == in_flight and ledger.settings_in_flight == []
    rolled_back = {**SETTINGS, "dvrWindowSec": 30}
    assert check_settings(ledger, rolled_back) != []


def test_a_ban_rolled_back_or_missing_from_the_log_is_named() -> None:
    target = "g:000000000001"
    ledger = Ledger(bans={target: True})
    ledger.moderation.append((3, "ban", target))
    logged = [{"action": "ban", "target": target}]
    assert check_bans(ledger, {target}, logged) == []
    assert check_bans(ledger, set(), logged) != []
    ledger.bans_in_flight[target] = True
    assert check_bans(ledger, {target}, []) == [
        f"acknowledged ban of {target} is not in the moderation log"]


def test_the_key_is_the_last_rotated_one_unless_a_newer_was_in_flight() -> None:
    ledger = Ledger(key="k0", keys=["k1", "k2"])
    assert check_key(ledger, "k2") == [] and ledger.key == "k2"
    ledger.keys = ["k1", "k2"]
    assert check_key(ledger, "k1") != []
    ledger.keys, ledger.rotation_in_flight = ["k1"], True
    assert check_key(ledger, "k3") == []
    ledger.keys, ledger.rotation_in_flight = [], False
    assert check_key(ledger, "k4") != [], "a key changed with no rotation"
