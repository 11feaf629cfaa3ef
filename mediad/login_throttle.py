"""Sign-in throttling that slows the guesser, not the owner.

Only failures count. Three records, all in memory (a restart forgets them, which a guesser
gains little from: scrypt already costs each guess ~50 ms):

- per address (an IPv6 address counts by its /64, what one host is usually given): at most
  ``per_address`` failures a minute, whatever the account;
- per account, from all addresses together: at most ``per_account`` failures an hour;
- per (address, account) pair: that this address failed at this account in the last hour.

The account-wide budget holds back only addresses that failed at that account themselves
(a pair record). A distributed guesser, whose addresses all fail, shares one budget of
``per_account`` guesses an hour beyond each address's first; the owner, signing in from an
address that has not failed, is never refused because of them. The owner's own typos count
like anyone's; a success clears that address's pair record.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SUSPECT_SEC = 3600.0
"""How long an address that failed at an account stays subject to the account's budget."""


@dataclass(slots=True)
class _Level:
    failures: float
    at: float


class FailureCounts:
    """Recent failures per key, leaking away at ``limit`` per ``per`` seconds: a key may
    fail ``limit`` times in a burst, then once per ``per / limit`` seconds."""

    def __init__(self, limit: int, per: float, max_keys: int = 100_000) -> None:
        self.limit = float(limit)
        self.leak = limit / per
        self.max_keys = max_keys
        self._levels: dict[str, _Level] = {}

    def _level(self, key: str, now: float) -> float:
        level = self._levels.get(key)
        if level is None:
            return 0.0
        return max(0.0, level.failures - (now - level.at) * self.leak)

    def wait(self, key: str, now: float) -> float:
        """0.0 when ``key`` may try again now, else the seconds until it may."""
        excess = self._level(key, now) - (self.limit - 1.0)
        return excess / self.leak if excess > 0 else 0.0

    def add(self, key: str, now: float) -> None:
        failures = self._level(key, now) + 1.0
        if key not in self._levels and len(self._levels) >= self.max_keys:
            self._forget_drained(now)
        self._levels[key] = _Level(failures, now)

    def _forget_drained(self, now: float) -> None:
        for key in [k for k in self._levels if self._level(k, now) == 0.0]:
            del self._levels[key]
        if len(self._levels) >= self.max_keys:  # a flood of keys: keep the newer half
            for key in list(self._levels)[: self.max_keys // 2]:
                del self._levels[key]


def address_key(address: str) -> str:
    """The key an address counts under: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle:
    def __init__(self, per_address_per_minute: int, per_account_per_hour: int,
                 max_keys: int = 100_000) -> None:
        self.addresses = FailureCounts(per_address_per_minute, 60.0, max_keys)
        self.accounts = FailureCounts(per_account_per_hour, 3600.0, max_keys)
        self.max_keys = max_keys
        self._suspects: dict[tuple[str, str], float] = {}
        """(address key, account) → when that address last failed at that account."""

    def wait(self, address: str, account: str, now: float) -> float:
        """0.0 when this sign-in may be tried now, else the seconds to wait."""
        where = address_key(address)
        wait = self.addresses.wait(where, now)
        failed_at = self._suspects.get((where, account))
        if failed_at is not None and now - failed_at < SUSPECT_SEC:
            wait = max(wait, self.accounts.wait(account, now))
        return wait

    def failed(self, address: str, account: str, now: float) -> None:
        where = address_key(address)
        self.addresses.add(where, now)
        self.accounts.add(account, now)
        pair = (where, account)
        self._suspects.pop(pair, None)  # re-inserted last: the dict stays oldest first
        if len(self._suspects) >= self.max_keys:
            self._forget_suspects(now)
        self._suspects[pair] = now

    def succeeded(self, address: str, account: str) -> None:
        self._suspects.pop((address_key(address), account), None)

    def _forget_suspects(self, now: float) -> None:
        for pair, at in list(self._suspects.items()):
            if now - at < SUSPECT_SEC and len(self._suspects) < self.max_keys:
                break
            del self._suspects[pair]
