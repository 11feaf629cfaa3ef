"""Debian's real nginx takes every rendering of ``mediad.edge_config`` (``nginx -t``) and,
started on a free port, serves mediad through it: health, a cached error, a WebSocket, and
with two origins each stream found on the origin that holds it."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mediad.edge_config import render_edge_config
from mediad.testing import DaemonProcess, free_port
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

NO_TRANSCODE = "[transcode]\nenabled = false\n"


def nginx() -> str:
    """Debian's nginx lives in /usr/sbin, which an unprivileged PATH may lack."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin") or \
        require_tool("nginx")


def own_user() -> str:
    """The workers' account: ours (a root test's private tmp dir is not www-data's)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def write_config(tmp_path: Path, origins: list[str], **options: Any) -> Path:
    cache_dir = tmp_path / "edge"
    cache_dir.mkdir(exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_edge_config(
        origins, **{"listen": f"127.0.0.1:{free_port()}", "cache_dir": cache_dir,
                    "user": own_user(), **options}))
    return conf


def nginx_args(tmp_path: Path, conf: Path) -> list[str]:
    return [nginx(), "-p", str(tmp_path), "-c", str(conf),
            "-g", f"pid {tmp_path / 'nginx.pid'}; error_log stderr;"]


@pytest.mark.parametrize("origins, options", [
    (["127.0.0.1:8080"], {}),
    (["127.0.0.1:8080", "localhost:8081", "[::1]:8082"], {}),
    (["127.0.0.1:8080"], {"cache_size": "256m", "server_name": "live.example.org *.cdn.test",
                          "block_timeout_sec": 30}),
    (["127.0.0.1:8080", "127.0.0.2:8080"], {"listen": free_port(), "cache_size": "20g",
                                            "block_timeout_sec": 1.5}),
], ids=["one-origin", "several-origins", "custom-names", "custom-sizes"])
def test_nginx_accepts_the_rendering(tmp_path: Path, origins: list[str],
                                     options: dict[str, Any]) -> None:
    conf = write_config(tmp_path, origins, **options)
    checked = subprocess.run([*nginx_args(tmp_path, conf), "-t"], capture_output=True,
                             text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr + conf.read_text()
    assert "test is successful" in checked.stderr
    assert (tmp_path / "edge" / "cache").is_dir()


def test_nginx_accepts_the_shipped_template_paths_aside(tmp_path: Path) -> None:
    """conf/nginx-edge.conf with only its cache directory moved (the rest as shipped)."""
    shipped = (Path(__file__).parent.parent.parent / "conf" / "nginx-edge.conf").read_text()
    (tmp_path / "edge").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(shipped.replace("/var/cache/mediad-edge", str(tmp_path / "edge"))
                    .replace("user www-data;", f"user {own_user()};"))
    checked = subprocess.run([*nginx_args(tmp_path, conf), "-t"], capture_output=True,
                             text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr


@contextmanager
def running_edge(tmp_path: Path, origins: list[str]) -> Iterator[str]:
    """nginx with the rendering for ``origins`` on a free port; yields its base URL. It
    logs each request's URI and the origins it tried to ``upstreams.log``."""
    port = free_port()
    conf = write_config(tmp_path, origins, listen=f"127.0.0.1:{port}")
    logged = (f"http {{\n    log_format upstreams '$request_uri $upstream_addr';\n"
              f"    access_log {tmp_path / 'upstreams.log'} upstreams;\n")
    conf.write_text(conf.read_text().replace("http {\n", logged, 1))
    proc = subprocess.Popen([*nginx_args(tmp_path, conf), "-g", "daemon off;"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the edge did not answer"
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET"
        ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_edge_serves_a_real_daemon(tmp_path: Path) -> None:
    with DaemonProcess(extra_config=NO_TRANSCODE) as daemon, \
            running_edge(tmp_path, [f"127.0.0.1:{daemon.http_port}"]) as edge:
        status, headers, body = get(edge + "/healthz")
        assert status == 200 and b"ok" in body.lower()
        assert headers["Cache-Control"] == "no-store"

        # An error is cached as briefly as the origin says, CORS kept: a dead stream's
        # viewers do not reach the origin again within that second or two.
        status, headers, _ = get(edge + "/hls/no-such-stream/index.m3u8")
        assert (status, headers["X-Cache-Status"]) == (404, "MISS")
        assert headers["Access-Control-Allow-Origin"] == "*"
        status, headers, _ = get(edge + "/hls/no-such-stream/index.m3u8")
        assert (status, headers["X-Cache-Status"]) == (404, "HIT")
        assert headers["Access-Control-Expose-Headers"] == "Age"
        # A player's CMCD query argument is no part of the key: the same entry.
        status, headers, _ = get(edge + "/hls/no-such-stream/index.m3u8?CMCD=bl%3D2100%2Csu")
        assert (status, headers["X-Cache-Status"]) == (404, "HIT")
        # A cross-origin player's preflight (CMCD headers) is answered by the edge itself:
        # not the origin's answer, which would expose Age.
        status, headers, _ = get(edge + "/hls/s/x/720p/seg1.2.m4s", method="OPTIONS", headers={
            "Origin": "https://player.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "cmcd-request,cmcd-session"})
        assert status == 204
        assert "CMCD-Session" in headers["Access-Control-Allow-Headers"]
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Expose-Headers" not in headers

        # The API is proxied, the cache not even consulted (no cache status); the web app too.
        status, headers, _ = get(edge + f"/api/streams/{daemon.banner.stream_id}")
        assert status == 200 and "X-Cache-Status" not in headers
        status, _, page = get(edge + "/")
        assert status == 200 and b"<html" in page.lower()

        asyncio.run(websocket_through(edge, daemon.banner.stream_id))


async def websocket_through(edge: str, stream_id: str) -> None:
    """The WebSocket upgrade reaches the origin through the edge and carries messages."""
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(f"{edge}/ws/streams/{stream_id}") as ws:
        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.TEXT, message


def test_with_two_origins_each_stream_is_found_where_it_lives(tmp_path: Path) -> None:
    """Two mediad processes with a stream each: whichever origin a stream hashes to, the
    edge answers from the one that holds it (the other's 404 sends it on)."""
    with DaemonProcess(extra_config=NO_TRANSCODE) as first, \
            DaemonProcess(extra_config=NO_TRANSCODE) as second:
        origins = [f"127.0.0.1:{first.http_port}", f"127.0.0.1:{second.http_port}"]
        ids = {first.banner.stream_id, second.banner.stream_id}
        assert len(ids) == 2
        with running_edge(tmp_path, origins) as edge:
            for stream_id in ids:
                status, _, body = get(f"{edge}/api/streams/{stream_id}")
                assert status == 200, body
                assert stream_id.encode() in body
            status, _, _ = get(f"{edge}/api/streams/nobody-has-this-one")
            assert status == 404
        tried = dict(line.split(" ", 1) for line in
                     (tmp_path / "upstreams.log").read_text().splitlines())
        # The stream no origin holds was asked of both (a 404 sends a request on) ...
        assert sorted(tried["/api/streams/nobody-has-this-one"].split(", ")) == sorted(origins)
        # ... and each stream's answer came from its own origin, first try or second.
        for daemon, origin in zip((first, second), origins, strict=True):
            assert tried[f"/api/streams/{daemon.banner.stream_id}"].endswith(origin)
