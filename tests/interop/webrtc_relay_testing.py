"""A lossy link in a WebRTC session's media path: the lossy UDP relay of the SRT tests, and in
front of the daemon a small HTTP proxy that forwards the WHIP/WHEP requests and rewrites the
answer's candidates to the relay's address, so that the peer sends everything (ICE, DTLS,
SRTP) through the relay, which forwards to the daemon's one candidate. The offer's
candidates are hidden from the daemon (``hide_candidates``), so that it answers the peer
only through the relay too.

The daemon must have exactly one candidate: ``[webrtc] bind_addresses = ["127.0.0.1"]`` and
``udp_port_min = udp_port_max`` (``webrtc_config``). Both run on a loop in a thread of their
own, beside the test's blocking calls.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from mediad.testing import free_port
from tests.interop.lossy_relay_testing import LossyRelay

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length",
                        "host", "content-encoding"})


def webrtc_config(port: int) -> str:
    """The daemon's ``[webrtc]`` section for one server candidate, 127.0.0.1:``port``."""
    return (f'[webrtc]\nbind_addresses = ["127.0.0.1"]\nudp_port_min = {port}\n'
            f"udp_port_max = {port}\n")


def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


def rewrite_candidates(sdp: str, server: tuple[str, int], relay: tuple[str, int]
                       ) -> tuple[str, int]:
    """``sdp`` with each candidate (and default address) at ``server`` moved to ``relay``;
    how many candidate lines were rewritten."""
    host, port = server
    lines, rewritten = [], 0
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            fields = line.split(" ")
            if fields[4] == host and fields[5] == str(port):
                fields[4], fields[5] = relay[0], str(relay[1])
                line = " ".join(fields)
                rewritten += 1
        elif line == f"c=IN IP4 {host}":
            line = f"c=IN IP4 {relay[0]}"
        elif line.startswith("m=") and line.split(" ")[1] == str(port):
            fields = line.split(" ")
            fields[1] = str(relay[1])
            line = " ".join(fields)
        lines.append(line)
    return "\r\n".join(lines), rewritten


def hide_candidates(sdp: str, dead_end: tuple[str, int]) -> str:
    """``sdp`` with its candidates replaced by one at ``dead_end``, where nothing answers:
    the daemon's checks to the peer's own addresses would find a way round the relay. It
    learns the peer's address from the checks that come through the relay (RFC 8445's
    peer-reflexive candidates); the dead end only keeps its check list from starting empty,
    which aioice takes for a failure."""
    lines, placed = [], set()
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            fields = line.split(" ")
            if fields[2].lower() != "udp" or fields[1] in placed:
                continue
            placed.add(fields[1])  # one per component
            fields[4], fields[5] = dead_end[0], str(dead_end[1])
            line = " ".join(fields[:8])
        lines.append(line)
    return "\r\n".join(lines)


@dataclass
class LossyPath:
    """``with LossyPath(daemon.base_url, udp_port, loss=0.05) as path:`` then POST the
    offer to ``path.base_url + "/whip/..."`` (or ``/whep/``)."""

    daemon_url: str
    server_port: int
    loss: float
    http_port: int = field(default_factory=free_port)
    relay: LossyRelay | None = None
    relay_port: int = 0
    rewritten: int = 0
    """Candidate lines rewritten in the answers so far."""
    answers: list[str] = field(default_factory=list)
    """The answers as the peer got them."""
    _dead_end: socket.socket | None = None
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def __enter__(self) -> LossyPath:
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._call(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)

    def candidates(self) -> set[str]:
        """``host:port`` of every candidate in the answers the peer got."""
        return {":".join(line.split(" ")[4:6]) for answer in self.answers
                for line in answer.split("\r\n") if line.startswith("a=candidate:")}

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=15)

    async def _start(self) -> None:
        # A bound socket that never reads: the daemon's checks to it vanish without an ICMP.
        self._dead_end = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._dead_end.bind(("127.0.0.1", 0))
        self.relay = LossyRelay(("127.0.0.1", self.server_port), loss=self.loss)
        self.relay_port = await self.relay.start()
        self._client = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.http_port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()
        if self.relay is not None:
            self.relay.close()
        if self._dead_end is not None:
            self._dead_end.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        data = await request.read()
        if request.method == "POST" and request.content_type == "application/sdp":
            assert self._dead_end is not None
            data = hide_candidates(data.decode(), self._dead_end.getsockname()).encode()
        async with self._client.request(request.method, self.daemon_url + request.path_qs,
                                        headers=headers, data=data,
                                        allow_redirects=False) as answer:
            body = await answer.read()
            out = web.Response(status=answer.status, body=body)
            for name, value in answer.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    out.headers.add(name, value)
        if answer.status == 201 and answer.content_type == "application/sdp":
            text, rewritten = rewrite_candidates(body.decode(), ("127.0.0.1", self.server_port),
                                                 ("127.0.0.1", self.relay_port))
            self.rewritten += rewritten
            self.answers.append(text)
            out.body = text.encode()
        return out
