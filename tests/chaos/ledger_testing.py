"""What the daemon acknowledged, kept by the campaign, and the check that a restart kept
it: a write the daemon answered (an ``ack``, a 2xx) must be there after any ``kill -9``;
a write in flight when it died may or may not be, but never half of one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SETTINGS = ("dvrWindowSec", "ageRestricted", "guestsMayChat", "blockedWords")


@dataclass
class Ledger:
    chat: dict[str, int] = field(default_factory=dict)
    """Acknowledged chat message id -> its seq."""
    tips: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Idempotency key -> (tip id, seq) of an acknowledged delivery."""
    tip_bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every delivery sent, acknowledged or not, by key: redelivered after the restart."""
    tips_unacked: set[str] = field(default_factory=set)
    settings: dict[str, Any] | None = None
    """The last acknowledged settings (every field written each time)."""
    settings_in_flight: list[dict[str, Any]] = field(default_factory=list)
    """Settings sent after the last acknowledged ones, not answered."""
    moderation: list[tuple[int, str, str]] = field(default_factory=list)
    """Acknowledged (seq, action, target) this round."""
    bans: dict[str, bool] = field(default_factory=dict)
    """Target -> banned, from the last acknowledged ban/unban."""
    bans_in_flight: dict[str, bool] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    """Primary keys the rotations acknowledged this round, oldest first."""
    key: str = ""
    """The primary key the next publish uses."""
    rotation_in_flight: bool = False

    def new_round(self) -> None:
        self.moderation.clear()
        self.keys.clear()
        self.rotation_in_flight = False
        self.tips_unacked.clear()


def check_event_log(ledger: Ledger, log: dict[int, dict[str, Any]]) -> list[str]:
    """Acknowledged chat messages and tips in the durable log, seqs without gaps."""
    wrong: list[str] = []
    if sorted(log) != list(range(1, len(log) + 1)):
        missing = sorted(set(range(1, max(log, default=0) + 1)) - set(log))
        wrong.append(f"the event log has gaps: seqs {missing[:10]} missing")
    for message_id, seq in ledger.chat.items():
        event = log.get(seq)
        if event is None or event.get("type") != "chat.message" or event.get("id") != message_id:
            wrong.append(f"acknowledged chat message {message_id} (seq {seq}) lost: {event}")
    for key, (tip_id, seq) in ledger.tips.items():
        event = log.get(seq)
        if event is None or event.get("type") != "tip" or event.get("id") != tip_id:
            wrong.append(f"acknowledged tip {key} (id {tip_id}, seq {seq}) lost: {event}")
    for seq, action, target in ledger.moderation:
        event = log.get(seq)
        if event is None or event.get("type") != f"moderation.{action}" or (
                event.get("target", {}).get("id") != target):
            wrong.append(f"acknowledged moderation.{action} of {target} (seq {seq}) lost: "
                         f"{event}")
    return wrong


def check_settings(ledger: Ledger, current: dict[str, Any]) -> list[str]:
    """The settings are the last acknowledged ones, or one write that was in flight; the
    ledger then takes what is there as acknowledged."""
    now = {name: current[name] for name in SETTINGS}
    allowed = [ledger.settings] if ledger.settings is not None else []
    allowed += ledger.settings_in_flight
    wrong = []
    if allowed and now not in allowed:
        wrong.append(f"settings after the restart {now} are neither the acknowledged "
                     f"{ledger.settings} nor one in flight {ledger.settings_in_flight}")
    ledger.settings, ledger.settings_in_flight = now, []
    return wrong


def check_bans(ledger: Ledger, banned_now: set[str], actions: list[dict[str, Any]]
               ) -> list[str]:
    """Each target's ban is what the last acknowledged ban/unban made it (or what the one
    in flight did), and every acknowledged action is in the moderation log."""
    wrong = []
    for target in set(ledger.bans) | set(ledger.bans_in_flight):
        allowed = {ledger.bans[target]} if target in ledger.bans else {False}
        if target in ledger.bans_in_flight:
            allowed.add(ledger.bans_in_flight[target])
        if (target in banned_now) not in allowed:
            wrong.append(f"{target} banned={target in banned_now} after the restart; "
                         f"acknowledged {ledger.bans.get(target)}")
        ledger.bans[target] = target in banned_now
    ledger.bans_in_flight.clear()
    logged = {(a["action"], a["target"]) for a in actions}
    for _, action, target in ledger.moderation:
        if (action, target) not in logged:
            wrong.append(f"acknowledged {action} of {target} is not in the moderation log")
    return wrong


def check_key(ledger: Ledger, revealed: str) -> list[str]:
    """The primary key is the last rotation acknowledged (or a newer one in flight), never
    an older one; the ledger then publishes with it."""
    wrong = []
    if not ledger.keys and not ledger.rotation_in_flight and revealed != ledger.key:
        wrong.append("the primary key changed across the restart with no rotation")
    if ledger.keys and revealed != ledger.keys[-1] and (
            revealed in ledger.keys or not ledger.rotation_in_flight):
        wrong.append(f"the primary key after the restart is not the last rotated one "
                     f"({revealed!r} vs {ledger.keys[-1]!r})")
    ledger.key = revealed
    return wrong
