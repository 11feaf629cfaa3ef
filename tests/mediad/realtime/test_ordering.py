"""Durable messages reach sockets in ``seq`` order even when the bus brings them out of
order or loses one (another process published it): the gap is read from the event log."""

from __future__ import annotations

import json

from mediad.clock import now_ms
from tests.mediad.realtime.conftest import Env


async def _log(env: Env, seq: int, text: str) -> dict[str, object]:
    message = {"type": "chat.message", "id": f"m{seq}", "text": text, "seq": seq,
               "author": {"id": "u:1", "handle": "admin", "role": "admin"}, "at": "x"}
    await env.store.events.append(env.stream.id, seq, json.dumps(message), now_ms())
    return message


async def test_early_messages_wait_for_the_missing_ones(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    first, second, third = [await _log(env, n, f"#{n}") for n in (1, 2, 3)]
    hub = env.hub
    hub.deliver(env.stream.id, third)
    hub.deliver(env.stream.id, second)
    hub.deliver(env.stream.id, first)
    hub.deliver(env.stream.id, second)  # an echo: delivered already
    texts = [(await socket.next("chat.message"))["text"] for _ in range(3)]
    assert texts == ["#1", "#2", "#3"]
    await socket.nothing("chat.message")


async def test_a_lost_message_is_read_from_the_log(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    first = await _log(env, 1, "#1")
    await _log(env, 2, "#2")  # stored by another process; its publish never came
    third = await _log(env, 3, "#3")
    env.hub.deliver(env.stream.id, first)
    env.hub.deliver(env.stream.id, third)
    texts = [(await socket.next("chat.message", timeout=2))["text"] for _ in range(3)]
    assert texts == ["#1", "#2", "#3"]


async def test_after_a_bus_outage_every_channel_catches_up(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    await _log(env, 1, "missed while the bus was down")
    env.hub.check_gaps()
    assert (await socket.next("chat.message", timeout=2))["seq"] == 1
