"""sd_notify: the datagrams systemd would read, on a real socket, from a real daemon."""

from __future__ import annotations

import signal
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mediad.sd_notify import notify, notify_address, reloading
from mediad.testing import DaemonProcess


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(5)
    try:
        yield sock
    finally:
        sock.close()


def test_a_message_is_one_datagram_of_assignments(listener: socket.socket) -> None:
    env = {"NOTIFY_SOCKET": listener.getsockname()}
    assert notify("READY=1", "STATUS=serving", environ=env)
    assert listener.recv(4096) == b"READY=1\nSTATUS=serving"


def test_abstract_socket() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(f"\0mediad-test-{threading.get_ident()}")
        sock.settimeout(5)
        name = sock.getsockname()
        assert isinstance(name, bytes) and name.startswith(b"\0")
        env = {"NOTIFY_SOCKET": "@" + name[1:].decode()}
        assert notify("STOPPING=1", environ=env)
        assert sock.recv(4096) == b"STOPPING=1"


def test_reloading_carries_the_monotonic_time(listener: socket.socket) -> None:
    assert reloading("reloading TLS", environ={"NOTIFY_SOCKET": listener.getsockname()})
    fields = dict(line.split("=", 1) for line in listener.recv(4096).decode().splitlines())
    assert fields["RELOADING"] == "1" and fields["STATUS"] == "reloading TLS"
    assert int(fields["MONOTONIC_USEC"]) > 0


def test_nothing_is_sent_outside_systemd(tmp_path: Path) -> None:
    assert not notify("READY=1", environ={})
    assert notify_address("vsock:2:1234") is None and notify_address("@") is None
    # A socket that is gone (systemd restarted) is a warning, never an exception.
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})


@dataclass
class Received:
    """Each datagram, with whether HTTP and RTMP answered the moment it arrived."""

    messages: list[str] = field(default_factory=list)
    serving_at_ready: list[bool] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    ready_again: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)


def _receive(sock: socket.socket, daemon: DaemonProcess, into: Received) -> None:
    sock.settimeout(30)
    while not into.stopping.is_set():
        try:
            message = sock.recv(4096).decode()
        except OSError:
            return
        into.messages.append(message)
        if "READY=1" in message.splitlines():
            into.serving_at_ready.append(_serving(daemon))
            (into.ready_again if into.ready.is_set() else into.ready).set()
        if "STOPPING=1" in message.splitlines():
            into.stopping.set()


def _serving(daemon: DaemonProcess) -> bool:
    try:
        with urllib.request.urlopen(daemon.base_url + "/healthz", timeout=5) as r:
            healthy = r.status == 200
        socket.create_connection(("127.0.0.1", daemon.rtmp_port), timeout=5).close()
    except OSError:
        return False
    return healthy


def test_daemon_is_ready_once_serving_reloads_and_says_when_it_stops(
        listener: socket.socket) -> None:
    received = Received()
    daemon = DaemonProcess(env={"NOTIFY_SOCKET": listener.getsockname()})
    thread = threading.Thread(target=_receive, args=(listener, daemon, received), daemon=True)
    thread.start()
    try:
        daemon.start()
        assert received.ready.wait(15), daemon.logs
        assert received.serving_at_ready == [True]
        ready = next(m for m in received.messages if "READY=1" in m)
        assert f"STATUS=serving: http {daemon.http_port}, rtmp {daemon.rtmp_port}, " \
               f"srt {daemon.srt_port}" in ready
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)  # systemctl reload (ExecReload)
        assert received.ready_again.wait(15), received.messages
        reload = received.messages[-2].splitlines()
        assert reload[0] == "RELOADING=1" and reload[1].startswith("MONOTONIC_USEC=")
        assert received.messages[-1].startswith("READY=1\n")
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.logs
    assert received.stopping.wait(5), received.messages
    assert received.serving_at_ready == [True, True]
    thread.join(5)
