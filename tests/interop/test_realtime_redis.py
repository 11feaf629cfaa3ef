"""Two mediad processes on one Redis (and one data directory) share a chat: messages,
moderation, tips and the viewer count, whichever process a client landed on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mediad.realtime.tips import SIGNATURE_HEADER, sign
from mediad.testing import DaemonProcess, free_port
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

SECRET = "whsec-redis-test-0123456789"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server of our own on a free port, gone after the test."""
    server, cli = require_tool("redis-server"), require_tool("redis-cli")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while subprocess.run([cli, "-p", str(port), "ping"], capture_output=True, text=True,
                             check=False).stdout.strip() != "PONG":
            assert proc.poll() is None and time.monotonic() < deadline, "no redis-server"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def config(redis_url: str) -> str:
    return (f'[realtime]\nbus = "redis"\nredis_url = "{redis_url}"\nflush_interval_ms = 20\n'
            f'[tips]\nwebhook_secret = "{SECRET}"\n[transcode]\nenabled = false\n')


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str, **match: Any
                  ) -> dict[str, Any]:
    async with asyncio.timeout(5.0):
        while True:
            frame = await ws.receive()
            assert frame.type == aiohttp.WSMsgType.TEXT, frame
            body = json.loads(frame.data)
            for message in body if isinstance(body, list) else [body]:
                if message.get("type") == kind and all(message.get(k) == v
                                                       for k, v in match.items()):
                    return message


def test_two_processes_share_one_chat(tmp_path: Path, redis_url: str) -> None:
    with DaemonProcess(extra_config=config(redis_url), data_dir=tmp_path) as one:
        stream = one.banner.stream_id
        with DaemonProcess(extra_config=config(redis_url), data_dir=tmp_path) as two:
            asyncio.run(_share(one, two, stream))


async def _share(one: DaemonProcess, two: DaemonProcess, stream: str) -> None:
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        a = await http.ws_connect(f"{one.base_url}/ws/streams/{stream}")
        b = await http.ws_connect(f"{two.base_url}/ws/streams/{stream}")
        await next_of(a, "chat.history")
        await next_of(b, "chat.history")
        # Each process counts its own viewer; both announce the total.
        assert (await next_of(a, "viewers", count=2))["count"] == 2
        assert (await next_of(b, "viewers", count=2))["count"] == 2

        await a.send_json({"type": "chat.send", "text": "from one", "ref": 1})
        ack = await next_of(a, "ack")
        got = await next_of(b, "chat.message")
        assert got["id"] == ack["id"] and got["text"] == "from one" and got["seq"] == ack["seq"]

        async with http.post(f"{two.base_url}/api/streams/{stream}/chat",
                             json={"text": "from two"}) as response:
            assert response.status == 201
            sent = await response.json()
        assert (await next_of(a, "chat.message", text="from two"))["id"] == sent["id"]
        assert sent["seq"] == ack["seq"] + 1  # one sequence across processes

        body = json.dumps({"streamId": stream, "idempotencyKey": "redis-1", "amountMinor": 700,
                           "currency": "EUR", "from": "Ada", "message": "hi"}).encode()
        async with http.post(f"{two.base_url}/api/webhooks/tips", data=body, headers={
                SIGNATURE_HEADER: sign(SECRET, int(time.time()), body)}) as response:
            assert response.status == 201
        assert (await next_of(a, "tip"))["amountMinor"] == 700

        # A client that resumes on the other process misses nothing.
        await a.close()
        assert (await next_of(b, "viewers", count=1))["count"] == 1
        async with http.post(f"{two.base_url}/api/streams/{stream}/chat",
                             json={"text": "while away"}) as response:
            assert response.status == 201
        async with http.get(f"{one.base_url}/api/streams/{stream}/events",
                            params={"cursor": str(ack["seq"])}) as response:
            events = (await response.json())["events"]
        assert [e.get("text") for e in events if e["type"] == "chat.message"] == [
            "from two", "while away"]
        await b.close()
