"""A set of addresses and CIDR networks that a peer's address is looked up in (trusted
proxies, who may scrape the metrics)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressNetworks:
    def __init__(self, entries: Iterable[str]) -> None:
        """``entries``: addresses or CIDR networks; ValueError for one that is neither."""
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(text.strip(), strict=False) for text in entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def holds(self, host: str | None) -> bool:
        """Whether ``host`` (an address, maybe with an IPv6 zone) is in one of them; an
        IPv4-mapped IPv6 address counts as its IPv4 address."""
        if not host or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
