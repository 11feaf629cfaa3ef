"""Who is really asking when a caching edge or a reverse proxy stands in front of mediad.

A request from one of ``server.trusted_proxies`` speaks for the client its
``X-Forwarded-For`` names: the last address in it that is not itself a trusted proxy (each
proxy appends the address it was reached from, so anything further left was written by the
client and is not believed). The request's ``remote`` becomes that address for everything
that keys on it: per-address limits, sign-in throttling, viewer identity. A trusted proxy's
own connections are exempt from the per-address connection cap: all its viewers share it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from mediad.http.networks import AddressNetworks


class TrustedProxies(AddressNetworks):
    def trusts(self, host: str | None) -> bool:
        return self.holds(host)

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """The client a request from ``peer`` speaks for, given its ``X-Forwarded-For``
        header values; ``peer`` itself when it is not a trusted proxy."""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            if not _is_address(hop):
                return peer  # a malformed chain: believe nothing of it
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def forwarded_middleware(proxies: TrustedProxies) -> Middleware:
    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        client = proxies.client(request.remote, request.headers.getall("X-Forwarded-For", []))
        if client is not None and client != request.remote:
            request = request.clone(remote=client)
        return await handler(request)
    return forwarded
