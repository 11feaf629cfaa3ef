"""Who may read ``/metrics``: a bearer token, or an address on the allow-list.

The address is the connection's own peer, never one named by ``X-Forwarded-For``: a client
behind a trusted edge would otherwise pass as the edge's (loopback) address."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from mediad.config import MetricsConfig
from mediad.http.networks import AddressNetworks


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    token: bytes
    allow: AddressNetworks

    @classmethod
    def from_config(cls, config: MetricsConfig) -> MetricsAccess:
        return cls(config.token.encode(), AddressNetworks(config.allow))

    def permits(self, peer: str | None, authorization: str | None) -> bool:
        if self.token and authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                    credentials.strip().encode(), self.token):
                return True
        return self.allow.holds(peer)

