"""TLS with real peers, on one daemon whose certificate a test CA made: ffmpeg publishes
over ``rtmps://``, hls.js in Chromium plays over HTTPS, a WebSocket connects over WSS, the
sign-in cookies are Secure, SIGHUP with a renewed certificate keeps every connection opened
before (the RTMPS publisher among them) while new ones get the new certificate, and an nginx
edge (``mediad edge-config``) checks and reaches the HTTPS origin."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from mediad.edge_config import render_edge_config
from mediad.testing import free_port
from tests.interop.hlsjs_watch_testing import Watch
from tests.interop.live_publisher_testing import publish
from tests.interop.tls_testing import TestCa, TlsDaemon
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

PUBLISH_SECONDS = 60


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    return TestCa(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def daemon(ca: TestCa) -> Iterator[TlsDaemon]:
    certificate = ca.issue("server", key_type="rsa")
    with TlsDaemon(extra_config="[transcode]\nenabled = false\n", ca=ca,
                   certificate=certificate) as running:
        yield running


@pytest.fixture(scope="module")
def publisher(daemon: TlsDaemon) -> Iterator[subprocess.Popen[bytes]]:
    """ffmpeg publishing over RTMPS (its TLS does not check the certificate, as OBS's
    doesn't for a custom server either; our client checks do)."""
    ffmpeg = require_tool("ffmpeg")
    protocols = subprocess.run([ffmpeg, "-hide_banner", "-protocols"], capture_output=True,
                               text=True, check=False).stdout.split()
    if "rtmps" not in protocols:
        pytest.skip("this ffmpeg has no rtmps protocol (built without TLS)")
    proc = publish(ffmpeg, daemon.rtmps_url(), PUBLISH_SECONDS)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def wait_segments(daemon: TlsDaemon, at_least: int, within: float = 20.0) -> str:
    """The source media playlist, once it lists ``at_least`` more segments than when asked
    (polled over HTTPS); the playlist's text."""
    stream = daemon.banner.stream_id
    deadline = time.monotonic() + within
    base: int | None = None
    last = ""
    while time.monotonic() < deadline:
        status, body = daemon.get(f"/hls/{stream}/index.m3u8")
        if status == 200:
            uri = next(line for line in body.decode().splitlines()
                       if line and not line.startswith("#"))
            status, body = daemon.get(f"/hls/{stream}/{uri}")
            last = body.decode(errors="replace")
            count = len(re.findall(r"^#EXTINF", last, re.M))
            base = count if base is None else base
            if status == 200 and count - base >= at_least:
                return last
        time.sleep(0.25)
    raise AssertionError(f"no {at_least} new segments within {within} s; last {last[:500]}\n"
                         f"{daemon.logs[-3000:]}")


def test_the_banner_gives_rtmps_and_https(daemon: TlsDaemon) -> None:
    banner = daemon.banner
    assert banner.rtmp_server == f"rtmp://127.0.0.1:{daemon.rtmp_port}/live"
    assert daemon.rtmps_server == f"rtmps://127.0.0.1:{daemon.rtmps_port}/live"
    assert banner.player_url == f"https://127.0.0.1:{daemon.http_port}/watch/{banner.stream_id}"
    assert banner.hls_url.startswith(f"https://127.0.0.1:{daemon.http_port}/hls/")
    with pytest.raises(OSError):  # the HTTP port speaks TLS only
        urllib.request.urlopen(f"http://127.0.0.1:{daemon.http_port}/healthz", timeout=5)


def test_ffmpeg_publishes_over_rtmps(daemon: TlsDaemon,
                                     publisher: subprocess.Popen[bytes]) -> None:
    wait_segments(daemon, 2, within=25)
    assert publisher.poll() is None
    status, body = daemon.get(f"/api/streams/{daemon.banner.stream_id}")
    assert status == 200 and json.loads(body)["state"] == "live", body


def test_hlsjs_plays_over_https(daemon: TlsDaemon, publisher: subprocess.Popen[bytes]) -> None:
    wait_segments(daemon, 1, within=25)
    watch = Watch(daemon.banner.hls_url, 6, ("--ignore-https-errors",)).start()
    report = watch.report(timeout=60)
    assert watch.samples[-1]["currentTime"] > 2, report["errors"]


def test_a_websocket_connects_over_wss_and_cookies_are_secure(daemon: TlsDaemon) -> None:
    asyncio.run(_wss_and_cookies(daemon))


async def _wss_and_cookies(daemon: TlsDaemon) -> None:
    wss = f"wss://127.0.0.1:{daemon.http_port}/ws/streams/{daemon.banner.stream_id}"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(wss, ssl=daemon.client) as ws:
            hello = await ws.receive_json(timeout=10)
            assert hello["type"] == "hello"
            await ws.send_json({"type": "ping", "ref": "r1"})
            assert await _next_of(ws, "pong") == {"type": "pong", "ref": "r1"}
        async with session.post(
                daemon.base_url + "/api/auth/login", ssl=daemon.client,
                json={"handle": "admin", "password": daemon.banner.admin_password}) as answer:
            assert answer.status == 200
            cookies = answer.headers.getall("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies), cookies


async def _next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive_json()
            if message.get("type") == kind:
                return dict(message)


def test_sighup_renews_the_certificate_without_dropping_connections(
        daemon: TlsDaemon, ca: TestCa, publisher: subprocess.Popen[bytes]) -> None:
    asyncio.run(_renewal(daemon, ca, publisher))


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """One keep-alive GET /healthz on an open connection: the status line."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    async with asyncio.timeout(10):
        status = await reader.readline()
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
    return status


async def _open(daemon: TlsDaemon) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", daemon.http_port, ssl=daemon.client)


def _peer(writer: asyncio.StreamWriter) -> bytes:
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    assert isinstance(der, bytes)
    return der


def _rtmps_certificate(daemon: TlsDaemon) -> bytes:
    """The certificate the RTMPS listener presents to a new connection."""
    context = daemon.client
    with ssl.create_connection(("127.0.0.1", daemon.rtmps_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def _half_written(path: Path) -> None:
    path.write_text("not a certificate\n")


async def _renewal(daemon: TlsDaemon, ca: TestCa, publisher: subprocess.Popen[bytes]) -> None:
    assert daemon.proc is not None and daemon.certificate is not None
    wait_segments(daemon, 1, within=25)
    old = daemon.certificate
    before = await _open(daemon)
    assert _peer(before[1]) == old.der()
    assert (await _get(*before)).startswith(b"HTTP/1.1 200")
    wss = f"wss://127.0.0.1:{daemon.http_port}/ws/streams/{daemon.banner.stream_id}"
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(wss, ssl=daemon.client) as ws:
        await _next_of(ws, "hello")

        # A renewal that went wrong first: the certificate in use stays.
        _half_written(old.cert)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("tls reload failed")
        probe = await _open(daemon)
        assert _peer(probe[1]) == old.der()
        probe[1].close()

        renewed = ca.issue("server")  # certbot's renewal in place (RSA to ECDSA, too)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("tls certificate reloaded")
        after = await _open(daemon)
        assert _peer(after[1]) == renewed.der() != old.der()
        assert _rtmps_certificate(daemon) == renewed.der()

        # Everything opened before goes on, on the certificate it started with.
        assert (await _get(*before)).startswith(b"HTTP/1.1 200")
        assert _peer(before[1]) == old.der()
        await ws.send_json({"type": "ping", "ref": "after"})
        assert (await _next_of(ws, "pong"))["ref"] == "after"
        await asyncio.to_thread(wait_segments, daemon, 2, 15.0)  # the RTMPS publish
        assert publisher.poll() is None
        for _, writer in (before, after):
            writer.close()
    assert daemon.proc.poll() is None
    assert "Traceback" not in daemon.logs


def test_an_nginx_edge_reaches_the_tls_origin(daemon: TlsDaemon, ca: TestCa,
                                              tmp_path: Path) -> None:
    """``mediad edge-config`` for an HTTPS origin: Debian's nginx checks the origin's
    certificate against the CA (a wrong name would be a 502) and serves through it."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin") or \
        require_tool("nginx")
    (tmp_path / "edge").mkdir()
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_edge_config(
        [f"127.0.0.1:{daemon.http_port}"], listen=f"127.0.0.1:{port}",
        cache_dir=tmp_path / "edge", user=pwd.getpwuid(os.geteuid()).pw_name,
        origin_tls=True, origin_tls_name="localhost", origin_ca=str(ca.cert_path)))
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-g",
         f"pid {tmp_path / 'nginx.pid'}; error_log stderr; daemon off;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        edge = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                with urllib.request.urlopen(edge + "/healthz", timeout=5) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    proc.terminate()
                    raise AssertionError(
                        f"the edge did not answer: {proc.communicate()[1]}") from None
                time.sleep(0.1)
        stream = daemon.banner.stream_id
        with urllib.request.urlopen(f"{edge}/api/streams/{stream}", timeout=10) as answer:
            assert json.loads(answer.read())["id"] == stream
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=10)
    assert "SSL" not in errors and "upstream" not in errors, errors
