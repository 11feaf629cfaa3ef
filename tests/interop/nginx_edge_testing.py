"""A real nginx edge in front of a real mediad, for the interop tests of issue 19.

``CountingRelay`` sits between the edge and the origin: it forwards every request and every
answer unchanged (streamed, gzip left as it is, WebSocket upgrades relayed) and records what
reached the origin, so a test counts origin requests on the origin's side. ``NginxEdge``
runs Debian's nginx unprivileged on a free port with the configuration
``mediad.edge_config.render_edge_config`` writes for a self-hoster, everything it writes
kept in a temporary prefix.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mediad.edge_config import render_edge_config
from mediad.testing import free_port
from tests.peers_testing import require_tool

T = TypeVar("T")

# Hop-by-hop headers (RFC 9110 §7.6.1): each connection's own, never forwarded.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                         "transfer-encoding", "upgrade"})
_LOG_FORMAT = re.compile(r"log_format mediad_edge [^;]*;")


@dataclass
class Relayed:
    """One request that reached the origin through the relay."""

    method: str
    path_qs: str
    headers: CIMultiDict[str]
    sent_at: float
    """time.monotonic() when the relay received it."""
    answered_at: float | None = None
    """time.monotonic() when the origin's response headers came back."""
    status: int | None = None


class CountingRelay:
    """``with CountingRelay(origin) as relay:`` listens on ``relay.url`` and forwards to
    ``origin`` (``http://host:port``)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/")
        self.port = free_port()
        self._requests: list[Relayed] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def requests(self, path_qs: str | None = None) -> list[Relayed]:
        """What reached the origin so far (for one path and query, or all)."""
        with self._lock:
            return [r for r in self._requests if path_qs is None or r.path_qs == path_qs]

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> CountingRelay:
        self._thread.start()
        self._run(self._start())
        return self

    async def _start(self) -> None:
        # Bodies pass as the origin sent them (a gzip'ed playlist stays gzip'ed); no limit on
        # connections to the origin, as the edge keeps its own pool.
        self._session = aiohttp.ClientSession(
            auto_decompress=False, connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._run(self._stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def __enter__(self) -> CountingRelay:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._relay_websocket(request)
        assert self._session is not None
        record = Relayed(request.method, request.path_qs, CIMultiDict(request.headers),
                         time.monotonic())
        with self._lock:
            self._requests.append(record)
        headers = _forwardable(request.headers)
        body = await request.read() if request.body_exists else None
        try:
            upstream = await self._session.request(
                request.method, self.origin + request.path_qs, headers=headers, data=body,
                allow_redirects=False,
                # What the edge sent, nothing added: no Accept-Encoding it did not ask for.
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"))
        except aiohttp.ClientError as exc:
            record.answered_at, record.status = time.monotonic(), 502
            return web.Response(status=502, text=f"relay: {exc}")
        async with upstream:
            record.answered_at, record.status = time.monotonic(), upstream.status
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            response.headers.extend(_forwardable(upstream.headers))
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _relay_websocket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        record = Relayed(request.method, request.path_qs, CIMultiDict(request.headers),
                         time.monotonic())
        with self._lock:
            self._requests.append(record)
        headers = {k: v for k, v in _forwardable(request.headers).items()
                   if not k.lower().startswith("sec-websocket")}
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "")
                     .split(",") if p.strip()]
        async with self._session.ws_connect(self.origin + request.path_qs, headers=headers,
                                            protocols=protocols) as upstream:
            record.answered_at, record.status = time.monotonic(), 101
            downstream = web.WebSocketResponse(protocols=protocols)
            await downstream.prepare(request)
            await asyncio.gather(_pump(upstream, downstream), _pump(downstream, upstream))
            return downstream


def _forwardable(headers: Any) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in _HOP_BY_HOP)


async def _pump(source: Any, sink: Any) -> None:
    """One direction of a relayed WebSocket, until either side closes."""
    async for message in source:
        if message.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            break
    await sink.close()


@dataclass
class NginxEdge:
    """``with NginxEdge([origin]) as edge:`` serves ``edge.base_url``; ``origins`` are
    ``host:port`` of mediad (or of a relay in front of it)."""

    origins: list[str]
    port: int = field(default_factory=free_port)
    startup_timeout: float = 10.0
    proc: subprocess.Popen[str] | None = None
    config_text: str = ""
    stderr_lines: list[str] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NginxEdge:
        nginx = nginx_binary()
        self._tmp = tempfile.TemporaryDirectory(prefix="mediad-edge-")
        prefix = Path(self._tmp.name)
        # Started as root (a container, CI), nginx's workers run as this test's own user,
        # who owns the temporary directory (nginx ignores `user` when not started as root).
        rendered = render_edge_config(self.origins, listen=f"127.0.0.1:{self.port}",
                                      cache_dir=prefix,
                                      user=pwd.getpwuid(os.getuid()).pw_name)
        self.config_text = _log_into(rendered, prefix / "access.log")
        config = prefix / "nginx.conf"
        config.write_text(self.config_text)
        self.proc = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(config),
             "-g", f"daemon off; pid {prefix / 'nginx.pid'}; error_log stderr;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        self._wait_listening()
        return self

    def _pump_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                time.sleep(0.1)  # the last stderr lines
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.logs}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on {self.port}:\n{self.logs}")

    @property
    def logs(self) -> str:
        return "\n".join(self.stderr_lines)

    def access_log(self) -> list[str]:
        """The edge's access log so far (nginx writes each line as a request ends)."""
        assert self._tmp is not None
        path = Path(self._tmp.name) / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> NginxEdge:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _log_into(config: str, path: Path) -> str:
    """The edge's access log (hits and misses) in the test's folder, not the system's
    (which an unprivileged nginx cannot open)."""
    found = _LOG_FORMAT.search(config)
    if found is None:
        raise AssertionError("the edge config has no mediad_edge log_format")
    line = f"\n    access_log {path} mediad_edge;"
    return config[:found.end()] + line + config[found.end():]


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which an unprivileged PATH may lack), or skip."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    return found or require_tool("nginx")

