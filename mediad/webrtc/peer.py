"""One aiortc peer connection set up the way the configuration says: ICE servers, the local
addresses and UDP ports ICE binds, and the public addresses offered beside them.

aiortc gathers through aioice, which binds every interface address on a free port and has no
setting for a port range or for an address it cannot bind (the public side of a 1:1 NAT). Both
are applied here, per connection, by replacing its ICE agent's host-candidate gathering
(``get_component_candidates``); the agent keeps pairing, checks and consent as it does. This
reaches into aioice's ``Connection`` (tested with aioice 0.13 under aiortc 1.16).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import itertools
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from aioice import Candidate
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from mediad.config import WebRtcConfig
from mediad.webrtc.ice_servers import IceServer, parse_ice_servers

log = logging.getLogger("mediad.webrtc")

RECEIVE_BUFFER = 1 << 20
"""Socket receive buffer: a keyframe at 8 Mbit/s arrives as a burst of ~100 datagrams."""


class PortRange:
    """The configured UDP ports, handed out round robin so that a port a session just freed
    is the last one reused (its peer may still send to it)."""

    def __init__(self, low: int, high: int) -> None:
        self.ports = range(low, high + 1) if low and high >= low else range(0)
        self._cursor: Iterator[int] = itertools.cycle(self.ports) if self.ports else iter(())

    def __bool__(self) -> bool:
        return bool(self.ports)

    def candidates(self) -> Iterator[int]:
        """Every port once, starting after the last one given."""
        for _ in self.ports:
            yield next(self._cursor)


class PeerFactory:
    """Builds peer connections for one configuration (the port cursor is shared)."""

    def __init__(self, settings: WebRtcConfig) -> None:
        self.settings = settings
        self.ice_servers: list[IceServer] = parse_ice_servers(settings.ice_servers)
        self.ports = PortRange(settings.udp_port_min, settings.udp_port_max)
        self.public_ips = [ipaddress.ip_address(ip) for ip in settings.public_ips]

    def create(self) -> RTCPeerConnection:
        servers = [RTCIceServer(urls=s.url, username=s.username, credential=s.credential)
                   for s in self.ice_servers]
        return RTCPeerConnection(RTCConfiguration(iceServers=servers))

    async def answer(self, pc: RTCPeerConnection, offer: str) -> str:
        """Set ``offer``, then answer it with every local candidate gathered (no trickle)."""
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        for agent in _ice_agents(pc):
            self._customise(agent)
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def _customise(self, agent: Any) -> None:
        original = agent.get_component_candidates
        settings = self.settings
        factory = self

        async def gather(component: int, addresses: list[str],
                         timeout: int = 5) -> list[Candidate]:  # noqa: ASYNC109 (aioice's)
            if settings.bind_addresses or factory.ports:
                candidates = await factory._bind_hosts(
                    agent, component, list(settings.bind_addresses) or addresses)
            else:
                candidates = await original(component=component, addresses=addresses,
                                            timeout=timeout)
            return candidates + factory._public_candidates(candidates)

        agent.get_component_candidates = gather

    async def _bind_hosts(self, agent: Any, component: int, addresses: Sequence[str]
                          ) -> list[Candidate]:
        """A host candidate per address, on a port of the range (any port without one)."""
        loop = asyncio.get_running_loop()
        candidates: list[Candidate] = []
        for address in addresses:
            protocol = await self._bind(loop, agent, address)
            if protocol is None:
                continue
            host, port = protocol.transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host), component=component,
                transport="udp", priority=candidate_priority(component, "host"), host=host,
                port=port, type="host")
            agent._protocols.append(protocol)  # aioice pairs remote candidates with these
            candidates.append(protocol.local_candidate)
        return candidates

    async def _bind(self, loop: asyncio.AbstractEventLoop, agent: Any, address: str
                    ) -> StunProtocol | None:
        ports = list(self.ports.candidates()) or [0]
        for port in ports:
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: StunProtocol(agent), local_addr=(address, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE and port:
                    continue
                log.warning("cannot bind an ICE socket", extra={"fields": {
                    "address": address, "port": port, "error": str(exc)}})
                return None
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            return protocol
        log.warning("every WebRTC UDP port is in use", extra={"fields": {
            "address": address, "ports": f"{self.ports.ports.start}-{self.ports.ports.stop - 1}"}})
        return None

    def _public_candidates(self, local: Sequence[Candidate]) -> list[Candidate]:
        """Each public address at the port of each local host candidate of its family: a
        peer's checks reach the local socket through the NAT's forwarding."""
        out: list[Candidate] = []
        for candidate in local:
            if candidate.type != "host":
                continue
            version = ipaddress.ip_address(candidate.host).version
            for public in self.public_ips:
                if public.version != version or str(public) == candidate.host:
                    continue
                out.append(Candidate(
                    foundation=candidate_foundation("host", "udp", str(public)),
                    component=candidate.component, transport="udp",
                    priority=candidate.priority - 1, host=str(public), port=candidate.port,
                    type="host"))
        return out


def _ice_agents(pc: RTCPeerConnection) -> list[Any]:
    """The aioice agents of ``pc``'s transports (one with BUNDLE)."""
    agents: list[Any] = []
    for transceiver in pc.getTransceivers():
        gatherer = transceiver.receiver.transport.transport.iceGatherer
        agent = getattr(gatherer, "_connection", None)
        if agent is not None and all(agent is not a for a in agents):
            agents.append(agent)
    return agents
