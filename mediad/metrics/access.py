"""Who may read ``/metrics``: a bearer token, or an address on the allow-list.

The address is the connection's own peer, never one named by ``X-Forwarded-For``: a client
behind a trusted edge would otherwise pass as the edge's (loopback) address."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from mediad.config import MetricsConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    token: bytes
    allow: tuple[Network, ...]

    @classmethod
    def from_config(cls, config: MetricsConfig) -> MetricsAccess:
        return cls(config.token.encode(), _networks(config.allow))

    def permits(self, peer: str | None, authorization: str | None) -> bool:
        if self.token and authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                    credentials.strip().encode(), self.token):
                return True
        return peer is not None and _within(peer, self.allow)


def _networks(entries: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)


def _within(peer: str, allow: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allow)
