"""A client that cannot keep up is disconnected and never slows the others."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediad.config import ChatConfig, RealtimeConfig
from tests.mediad.realtime.conftest import Env, make_env


@pytest.fixture
async def tight(tmp_path: Path) -> AsyncIterator[Env]:
    env = await make_env(
        tmp_path, chat=ChatConfig(messages_per_minute=100_000,
                                  messages_per_minute_per_ip=1_000_000),
        realtime=RealtimeConfig(flush_interval_ms=0, outbound_queue_frames=8,
                                outbound_buffer_bytes=8192))
    try:
        yield env
    finally:
        for s in env.sockets:
            await s.close()
        await env.client.close()
        await env.registry.close()
        await env.store.close()


def stalled_client(port: int, path: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_stalled_reader_is_cut_off_and_the_others_get_everything(tight: Env) -> None:
    port = tight.client.server.port
    assert port is not None
    stalled = await asyncio.to_thread(stalled_client, port, f"/ws/streams/{tight.stream.id}")
    reader = await tight.connect()
    await reader.next("chat.history")
    hub = tight.hub
    text = "x" * 480
    sent = 0
    assert hub.subscriber_count() == 2
    while hub.subscriber_count() == 2 and sent < 3000:
        status, _ = await tight.post(f"/api/streams/{tight.stream.id}/chat",
                                     {"text": f"{sent} {text}"}, "creator")
        assert status == 201
        sent += 1
    assert hub.subscriber_count() == 1, "the stalled client was never cut off"
    assert sent > 20
    received = 0
    while received < sent:
        await reader.next("chat.message", timeout=5)
        received += 1
    stalled.close()
    assert received == sent
