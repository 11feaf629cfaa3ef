"""Simulated WebSocket chat viewers for ``bench/chat_fanout.py``, run in their own process.

Each viewer is a bare ``asyncio.Protocol`` speaking RFC 6455 itself (upgrade handshake,
incremental frame parsing, masked pong and close replies): no client library, so that
10000 viewers receiving ~20 frames/s each fit on one core and the server is what is
measured. Every K-th viewer in handshake order is a probe that decodes its text frames
(binary ones as msgpack when the server chose ``--subprotocol msgpack``) and times
``chat.message`` objects whose text is ``bench:<time.time_ns() at send>``; the others
only count frames and bytes.
Probes are picked in the order the server accepted them because a server writes to its
sockets in that order: the first and the last socket see different delays.

    python -m bench.ws_clients URL --clients N --seconds S --out FILE [--probe-every K]
        [--connect-concurrency C] [--subprotocol NAME]

prints ``READY <connected>`` once every viewer has connected (or given up), receives for
S seconds, closes every socket and writes one JSON object to FILE: {"clients", "connected",
"failed", "closed_by_server", "frames", "bytes", "reads", "latencies_ms", "probes", "lost",
"cpu_share", "errors", "first_errors"}. ``reads`` counts socket reads (frames per read above
1: this process fell behind and reads batches); ``lost`` counts sockets the server dropped
without a close frame; ``cpu_share`` is this process's CPU seconds per second while receiving (near
1.0: the viewers, not the server, may have set the pace). ``time.time_ns`` is the
system-wide realtime clock, comparable with the sender's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import os
import resource
import struct
import time
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

import msgpack

from bench.harness import raise_open_files_limit, run_on_uvloop

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CONNECT_RETRIES = 3
CONNECT_TIMEOUT = 15.0
CLOSE_WAIT = 5.0
MAX_HEAD = 16384
PREFIX = "bench:"


class HandshakeError(Exception):
    pass


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the repeating 4-byte key as one big integer: no per-byte Python loop."""
    size = len(payload)
    if not size:
        return b""
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame; RFC 6455 §5.3: a client masks every frame it sends."""
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return header + key + mask(payload, key)


def accept_for(key: bytes) -> str:
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


class Tally:
    """What all viewers saw together; per-frame counts stay on each viewer (cheaper)."""

    def __init__(self, probe_every: int) -> None:
        self.probe_every = probe_every
        self.connected = 0
        self.failed = 0
        self.probes = 0
        self.lost = 0
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.first_errors: list[str] = []

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.first_errors) < 10:
            self.first_errors.append(what)

    def opened(self, viewer: Viewer) -> None:
        """Called as the 101 is parsed, before any frame: the n-th accepted socket is a
        probe when n is a multiple of K, so probes are spread evenly over the server's
        order and the first socket (K > N included) always is one."""
        if self.connected % self.probe_every == 0:
            viewer.probe = True
            self.probes += 1
        self.connected += 1


class Viewer(asyncio.Protocol):
    __slots__ = (
        "accept", "buf", "closed_by_server", "closing", "decode_binary", "ended", "frag_opcode",
        "fragments", "frames", "head", "nbytes", "need", "open", "opened", "probe",
        "reads", "request", "tally", "transport",
    )

    def __init__(self, request: bytes, accept: str, tally: Tally) -> None:
        loop = asyncio.get_running_loop()
        self.request, self.accept, self.tally = request, accept, tally
        self.decode_binary = False  # the server chose msgpack
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.buf = bytearray()
        self.need = 0  # bytes self.buf must reach before a frame can be complete
        self.open = False
        self.probe = False
        self.closing = False  # we sent a close frame
        self.closed_by_server = False
        self.frames = 0
        self.nbytes = 0
        self.reads = 0
        self.fragments: list[bytes] | None = None
        self.frag_opcode = OP_TEXT
        self.opened: asyncio.Future[None] = loop.create_future()
        self.ended: asyncio.Future[None] = loop.create_future()

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if self.open:
            self.frames_received(data)
        else:
            self.handshake_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open and not self.closing:
            self.tally.lost += 1
            self.tally.error(f"lost without a close frame: {exc}")
        self.open = False
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during handshake: {exc}"))
        if not self.ended.done():
            self.ended.set_result(None)

    # -- handshake -----------------------------------------------------------------------

    def handshake_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.head) > MAX_HEAD:
                self.fail_handshake("response head too long")
            return
        lines = self.head[:end].decode("latin-1").split("\r\n")
        rest = bytes(self.head[end + 4:])
        self.head = bytearray()
        status = lines[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            self.fail_handshake(f"status {lines[0]!r}")
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("upgrade", "").lower() != "websocket":
            self.fail_handshake(f"upgrade {headers.get('upgrade')!r}")
            return
        if headers.get("sec-websocket-accept") != self.accept:
            self.fail_handshake("wrong Sec-WebSocket-Accept")
            return
        self.decode_binary = headers.get("sec-websocket-protocol") == "msgpack"
        self.open = True
        self.tally.opened(self)
        self.opened.set_result(None)
        if rest:
            self.frames_received(rest)

    def fail_handshake(self, reason: str) -> None:
        assert self.transport is not None
        if not self.opened.done():
            self.opened.set_exception(HandshakeError(reason))
        self.transport.abort()

    # -- frames --------------------------------------------------------------------------

    def frames_received(self, data: bytes) -> None:
        """Parse every whole frame in ``data`` (plus what an earlier call left over) with
        index arithmetic; only a probe's payloads and control frames are ever sliced."""
        if self.buf:
            self.buf += data
            if len(self.buf) < self.need:
                return
            data = bytes(self.buf)
            self.buf.clear()
        pos, end, need = 0, len(data), 0
        while end - pos >= 2:
            b1 = data[pos + 1]
            size = b1 & 0x7F
            if b1 & 0x80:  # RFC 6455 §5.1: a client must fail on a masked server frame
                self.fail("masked server frame")
                return
            if size < 126:
                start = pos + 2
            elif size == 126:
                if end - pos < 4:
                    break
                size = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            else:
                if end - pos < 10:
                    break
                size = int.from_bytes(data[pos + 2:pos + 10], "big")
                start = pos + 10
            stop = start + size
            if stop > end:
                need = stop - pos
                break
            b0 = data[pos]
            opcode = b0 & 0x0F
            if opcode < 3:
                self.nbytes += size
                if b0 & 0x80:
                    self.frames += 1
                if self.probe:
                    self.probe_frame(opcode, b0 & 0x80, data[start:stop])
            else:
                self.control_frame(opcode, data[start:stop])
                if not self.open:
                    return
            pos = stop
        if pos < end:
            self.buf += data[pos:]
            self.need = need

    def probe_frame(self, opcode: int, fin: int, payload: bytes) -> None:
        if opcode == OP_CONT:
            if self.fragments is None:
                self.tally.error("continuation without a first frame")
                return
            self.fragments.append(payload)
            if not fin:
                return
            opcode, payload = self.frag_opcode, b"".join(self.fragments)
            self.fragments = None
        elif not fin:
            self.fragments, self.frag_opcode = [payload], opcode
            return
        try:
            if opcode == OP_TEXT:
                value: Any = json.loads(payload)
            elif self.decode_binary:
                value = msgpack.unpackb(payload)
            else:
                return
        except (ValueError, msgpack.UnpackException) as exc:
            self.tally.error(f"undecodable frame: {exc}")
            return
        now = time.time_ns()
        for item in value if isinstance(value, list) else (value,):
            if not isinstance(item, dict) or item.get("type") != "chat.message":
                continue
            text = item.get("text")
            if isinstance(text, str) and text.startswith(PREFIX):
                try:
                    sent = int(text[len(PREFIX):])
                except ValueError:
                    continue
                # Whole microseconds: exact enough, and a short JSON number per sample.
                self.tally.latencies_ms.append((now - sent) // 1000 / 1000)

    def control_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == OP_PING:
            if not self.closing:
                self.transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            if not self.closing:
                self.closed_by_server = True
                self.closing = True
                # Echo the status code (RFC 6455 §5.5.1), then let the socket go.
                self.transport.write(client_frame(OP_CLOSE, payload[:2]))
            self.open = False
            self.transport.close()
        elif opcode != OP_PONG:
            self.fail(f"unknown opcode {opcode}")

    def send_close(self) -> None:
        """Start the closing handshake; the server's close (or a timeout) ends it."""
        if self.transport is None or self.transport.is_closing() or self.closing:
            return
        self.closing = True
        self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", 1000)))

    def fail(self, why: str) -> None:
        """A protocol error: close with 1002 and stop reading (RFC 6455 §7.1.7)."""
        assert self.transport is not None
        self.tally.error(why)
        if not self.closing:
            self.closing = True
            self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", 1002)))
        self.open = False
        self.transport.close()


def handshake_request(host: str, port: int, target: str, subprotocol: str | None
                      ) -> tuple[bytes, str]:
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
        "Connection: Upgrade", f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), accept_for(key)


async def connect(host: str, port: int, target: str, subprotocol: str | None, tally: Tally,
                  gate: asyncio.Semaphore) -> Viewer | None:
    """One viewer: at most ``gate``'s worth of handshakes in flight, up to 3 retries."""
    loop = asyncio.get_running_loop()
    for attempt in range(1 + CONNECT_RETRIES):
        request, accept = handshake_request(host, port, target, subprotocol)
        factory = partial(Viewer, request, accept, tally)
        viewer: Viewer | None = None
        async with gate:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    _, viewer = await loop.create_connection(factory, host, port)
                    await viewer.opened
                return viewer
            except (OSError, HandshakeError, TimeoutError) as exc:
                tally.error(f"connect attempt {attempt + 1}: {type(exc).__name__}: {exc}")
                if viewer is not None and viewer.transport is not None:
                    viewer.transport.abort()
        await asyncio.sleep(0.1 * 2 ** attempt)
    tally.failed += 1
    return None


async def run(url: str, clients: int, seconds: float, probe_every: int, concurrency: int,
              subprotocol: str | None) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise SystemExit(f"only ws:// URLs are supported, not {url!r}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    tally = Tally(probe_every)
    gate = asyncio.Semaphore(concurrency)
    results = await asyncio.gather(*(connect(host, port, target, subprotocol, tally, gate)
                                     for _ in range(clients)))
    viewers = [v for v in results if v is not None]
    # Long-lived objects leave the collector's young generations: the probes' decoded
    # dicts then trigger collections that do not walk 10000 viewers.
    gc.collect()
    gc.freeze()
    print(f"READY {tally.connected}", flush=True)
    cpu_start = process_cpu()
    await asyncio.sleep(seconds)
    # Near 1.0 means this process, not the server, may have set the pace.
    cpu_share = (process_cpu() - cpu_start) / seconds if seconds > 0 else 0.0
    for viewer in viewers:
        viewer.send_close()
    pending = [v.ended for v in viewers if not v.ended.done()]
    if pending:
        await asyncio.wait(pending, timeout=CLOSE_WAIT)
    for viewer in viewers:
        if not viewer.ended.done() and viewer.transport is not None:
            viewer.transport.abort()
    return {
        "clients": clients,
        "connected": tally.connected,
        "failed": tally.failed,
        "closed_by_server": sum(v.closed_by_server for v in viewers),
        "frames": sum(v.frames for v in viewers),
        "bytes": sum(v.nbytes for v in viewers),
        "reads": sum(v.reads for v in viewers),
        "latencies_ms": tally.latencies_ms,
        "probes": tally.probes,
        "lost": tally.lost,
        "cpu_share": round(cpu_share, 3),
        "errors": tally.errors,
        "first_errors": tally.first_errors,
    }


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime




def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="ws://HOST:PORT/ws/streams/ID")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="how long to receive after READY")
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    parser.add_argument("--probe-every", type=int, default=10,
                        help="every K-th viewer decodes and times messages (1: all)")
    parser.add_argument("--connect-concurrency", type=int, default=200,
                        help="handshakes in flight at once")
    parser.add_argument("--subprotocol", help="Sec-WebSocket-Protocol to ask for")
    args = parser.parse_args()
    if args.clients < 0 or args.probe_every < 1 or args.connect_concurrency < 1:
        parser.error("--clients must be >= 0, --probe-every and --connect-concurrency >= 1")
    raise_open_files_limit()
    result = run_on_uvloop(run(args.url, args.clients, args.seconds, args.probe_every,
                                args.connect_concurrency, args.subprotocol))
    with open(args.out, "w") as out:
        json.dump(result, out, separators=(",", ":"))


if __name__ == "__main__":
    main()
