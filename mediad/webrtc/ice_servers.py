"""The configured STUN/TURN servers: for aiortc's own ICE agent and, as RFC 9725 section 4.6
``Link`` headers, for the clients of WHIP and WHEP.

A server is written ``stun:host[:port]`` or ``turn[s]:user:password@host[:port][?transport=
udp|tcp]``; the credentials leave the URL (RFC 7065 URLs carry none) and go to the Link
header's ``username``/``credential`` attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_URL = re.compile(
    r"^(?P<scheme>stuns?|turns?):(?:(?P<user>[^:@\s]+):(?P<password>\S+)@)?"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?"
    r"(?P<query>\?transport=(?:udp|tcp))?$")


class IceServerError(ValueError):
    """A configured ICE server that is not a STUN/TURN URL."""


@dataclass(frozen=True, slots=True)
class IceServer:
    url: str
    """The URL without credentials."""
    username: str | None = None
    credential: str | None = None

    def link(self) -> str:
        value = f'<{self.url}>; rel="ice-server"'
        if self.username is not None and self.credential is not None:
            value += (f'; username="{_quoted(self.username)}"; '
                      f'credential="{_quoted(self.credential)}"; credential-type="password"')
        return value


def parse_ice_server(text: str) -> IceServer:
    found = _URL.match(text.strip())
    if found is None:
        raise IceServerError(f"not a stun:/turn: URL: {text!r}")
    scheme, host, port = found["scheme"], found["host"], found["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise IceServerError(f"port out of range: {text!r}")
    if scheme.startswith("turn") and found["user"] is None:
        raise IceServerError(f"a TURN server needs user:password@: {text!r}")
    url = f"{scheme}:{host}" + (f":{port}" if port else "") + (found["query"] or "")
    return IceServer(url, found["user"], found["password"])


def parse_ice_servers(texts: Iterable[str]) -> list[IceServer]:
    return [parse_ice_server(text) for text in texts]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
