"""Connection floods against a real daemon (issue 16), on loopback, a few seconds each:
slowloris connections are closed, a per-address HTTP flood and a descriptor shortage leave
``/healthz`` and a real ffmpeg RTMP publish working, idle RTMP connections from one address
do not lock a publisher out, and pre-publish RTMP connections cannot hold big buffers.

Linux routes all of 127/8 to this host, so a flood comes from 127.0.0.2 (or 127.0.1.x) and
the real clients from 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import resource
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mediad.testing import DaemonProcess
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

QUIET = "[transcode]\nenabled = false\n"
"""No ladder: the tests are about connections, and the machine is small."""


def connect(port: int, source: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3, source_address=(source, 0))
    sock.setblocking(False)
    return sock


def is_closed(sock: socket.socket) -> bool:
    """The server closed or reset ``sock`` (non-blocking; what it sent first is read)."""
    try:
        while sock.recv(65536):
            pass
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextlib.contextmanager
def renewed_flood(port: int, source: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` idle connections from ``source``, each one the server closes reopened at
    once (what a flooder renewing its connections does)."""
    held: list[socket.socket] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            for sock in [s for s in held if is_closed(s)]:
                held.remove(sock)
                sock.close()
            while len(held) < count and not stop.is_set():
                try:
                    held.append(connect(port, source))
                except OSError:
                    break
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        yield held
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()


def get_status(port: int, path: str, source: str = "127.0.0.1") -> int:
    """The status of one GET, or 0 when the connection was refused, reset or timed out."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def publishes(daemon: DaemonProcess, ffmpeg: str) -> bool:
    """A 3 s ffmpeg publish from 127.0.0.1 is attached and ends without an error."""
    before = sum("publisher attached" in line for line in daemon.stderr_lines)
    proc = publish(ffmpeg, daemon.rtmp_url(), 3)
    try:
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    after = sum("publisher attached" in line for line in daemon.stderr_lines)
    return code == 0 and after > before


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.interop
def test_idle_rtmp_connections_from_one_address_do_not_stop_a_publish() -> None:
    ffmpeg = require_tool("ffmpeg")
    env = {"MEDIAD_RTMP_MAX_CONNECTIONS": "40", "MEDIAD_RTMP_MAX_UNAUTHENTICATED": "20",
           "MEDIAD_RTMP_MAX_UNAUTHENTICATED_PER_ADDRESS": "8"}
    with DaemonProcess(env=env, extra_config=QUIET) as daemon, \
            renewed_flood(daemon.rtmp_port, "127.0.0.2", 60):
        assert publishes(daemon, ffmpeg), daemon.logs
        daemon.wait_for_log(r"connection cap reached: rtmp unauthenticated per address")


def test_pre_publish_rtmp_connections_cannot_hold_big_buffers() -> None:
    # Issue 16: 60 connections that never published took RSS from 132 MB to 1.29 GB.
    declared = 4 << 20
    hello = b"\x03" + bytes(1536) + bytes(1536)  # C0, C1, C2 (the server is lenient)
    # Set Chunk Size 1 MiB: fmt 0 on csid 2, timestamp 0, length 4, type 1, stream 0.
    chunk_size = (b"\x02" + bytes(3) + (4).to_bytes(3, "big") + b"\x01" + bytes(4)
                  + (1 << 20).to_bytes(4, "big"))
    video = (b"\x06" + bytes(3) + declared.to_bytes(3, "big") + b"\x09"
             + (1).to_bytes(4, "little"))
    # A long handshake timeout: the connections must all be there when RSS is read.
    with DaemonProcess(env={"MEDIAD_RTMP_HANDSHAKE_TIMEOUT_SEC": "120"},
                       extra_config=QUIET) as daemon:
        assert daemon.proc is not None
        baseline = rss_mb(daemon.proc.pid)
        held = []
        for i in range(40):
            sock = socket.create_connection(("127.0.0.1", daemon.rtmp_port), timeout=5,
                                            source_address=(f"127.0.1.{i + 1}", 0))
            held.append(sock)
            with contextlib.suppress(OSError):  # refused at the header: a reset mid-send
                sock.sendall(hello + chunk_size + video + bytes(declared - 1))
        time.sleep(1.0)
        grown = rss_mb(daemon.proc.pid) - baseline
        for sock in held:
            sock.close()
        assert grown < 48, f"RSS grew {grown:.0f} MB for 40 unfinished 4 MiB messages"
        daemon.wait_for_log(r"protocol error \(limit\)")


def test_slowloris_connections_are_closed() -> None:
    with DaemonProcess(env={"MEDIAD_SERVER_HEADER_TIMEOUT_SEC": "1",
                            "MEDIAD_SERVER_IDLE_TIMEOUT_SEC": "1.5"},
                       extra_config=QUIET) as daemon:
        idle = connect(daemon.http_port, "127.0.0.1")
        slow = connect(daemon.http_port, "127.0.0.1")
        slow.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not (is_closed(idle) and is_closed(slow)):
            with contextlib.suppress(OSError):
                slow.send(b"X")  # a header byte every 100 ms never ends the headers
            time.sleep(0.1)
        assert is_closed(idle) and is_closed(slow)
        idle.close()
        slow.close()
        assert get_status(daemon.http_port, "/healthz") == 200


@pytest.mark.interop
def test_a_per_address_http_flood_is_refused_while_health_and_ingest_work() -> None:
    ffmpeg = require_tool("ffmpeg")
    env = {"MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "50",
           "MEDIAD_SERVER_CAP_LOG_INTERVAL_SEC": "1"}
    with DaemonProcess(env=env, extra_config=QUIET) as daemon:
        flood = []
        started = time.monotonic()
        for _ in range(300):
            flood.append(connect(daemon.http_port, "127.0.0.1"))
        time.sleep(0.5)
        assert sum(not is_closed(s) for s in flood) == 50
        assert get_status(daemon.http_port, "/healthz") == 0  # this address is full
        assert get_status(daemon.http_port, "/healthz", source="127.0.0.2") == 200
        assert publishes(daemon, ffmpeg), daemon.logs
        while time.monotonic() - started < 3.5:  # the flood goes on: 3 more intervals
            flood.append(connect(daemon.http_port, "127.0.0.1"))
            time.sleep(0.02)
        daemon.wait_for_log(r"http per address cap hit \d+ more times")
        for sock in flood:
            sock.close()
        first = [line for line in daemon.stderr_lines
                 if "connection cap reached: http per address" in line]
        summaries = [line for line in daemon.stderr_lines
                     if "http per address cap hit" in line]
        elapsed = time.monotonic() - started
        assert len(first) == 1  # one line at once, then one an interval, never one a hit
        assert 1 <= len(summaries) <= elapsed + 1


@pytest.mark.interop
def test_out_of_descriptors_http_saturates_while_health_and_ingest_work() -> None:
    ffmpeg = require_tool("ffmpeg")

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (320, 320))

    env = {"MEDIAD_SERVER_DESCRIPTOR_RESERVE": "120",
           "MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "0"}
    with DaemonProcess(env=env, extra_config=QUIET, preexec_fn=low_limit) as daemon:
        flood = []
        for _ in range(400):
            with contextlib.suppress(OSError):
                flood.append(connect(daemon.http_port, "127.0.0.1"))
        # Flood connections admitted on probation never ask: closed within 2-3 s, then the
        # probation slots serve health checks again.
        deadline = time.monotonic() + 8
        while get_status(daemon.http_port, "/healthz") != 200:
            assert time.monotonic() < deadline, daemon.logs
            time.sleep(0.2)
        open_now = sum(not is_closed(s) for s in flood)
        assert open_now < 320 - 120, "HTTP took descriptors from the reserve"
        assert get_status(daemon.http_port, "/") in (0, 503)  # saturated
        daemon.wait_for_log(r"connection cap reached: http descriptor reserve")
        daemon.wait_for_log(r"descriptor limit .*soft=320")
        assert publishes(daemon, ffmpeg), daemon.logs
        for sock in flood:
            sock.close()
