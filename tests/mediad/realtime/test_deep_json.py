"""Deeply nested JSON (and msgpack) on the real-time entry points: a ``bad_request``
reply on the socket, which stays open (no close 1011); 400s over HTTP and on the tip
webhook."""

from __future__ import annotations

import time

import msgpack
from hypothesis import HealthCheck, given, settings

from mediad.realtime import messages as m
from mediad.realtime.tips import SIGNATURE_HEADER, sign
from tests.mediad.nesting_testing import nested_json, with_field
from tests.mediad.realtime.conftest import WEBHOOK_SECRET, Env

_ONE_ENV = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@_ONE_ENV
@given(nested=nested_json())
async def test_a_socket_answers_deep_json_with_bad_request(env: Env, nested: str) -> None:
    socket = await env.connect("viewer")
    await socket.next("hello")
    await socket.ws.send_str(with_field(nested, "text", type="chat.send", ref="deep").decode())
    refused = await socket.next("error")
    assert refused["code"] == "bad_request" and "nested deeper" in refused["message"]
    assert (await socket.command(type="ping"))["type"] == "pong"  # still open
    await socket.close()


async def test_json_past_the_interpreters_recursion_limit_does_not_close_the_socket(
        env: Env) -> None:
    socket = await env.connect("viewer")
    await socket.next("hello")
    await socket.ws.send_str('{"type": "chat.send", "text": ' + "[" * 6000 + "]" * 6000 + "}")
    refused = await socket.next("error")  # not a close 1011 with a RecursionError
    assert refused["code"] == "bad_request" and "nested deeper" in refused["message"]
    assert (await socket.command(type="ping"))["type"] == "pong"


async def test_a_msgpack_socket_answers_deep_nesting_with_bad_request(env: Env) -> None:
    socket = await env.connect("viewer", protocols=(m.MSGPACK,))
    await socket.next("hello")
    deep = b"\x81\xa4text" + b"\x91" * 200 + b"\xc0"  # {"text": [[[...]]]}, 200 levels
    await socket.ws.send_bytes(deep)
    refused = await socket.next("error")
    assert refused["code"] == "bad_request" and "nested deeper" in refused["message"]
    await socket.ws.send_bytes(msgpack.packb({"type": "ping", "ref": 1}))
    assert (await socket.next("pong"))["ref"] == 1


@_ONE_ENV
@given(nested=nested_json())
async def test_chat_over_http_refuses_deep_json(env: Env, nested: str) -> None:
    response = await env.client.post(
        f"/api/streams/{env.stream.id}/chat", data=with_field(nested, "text"),
        headers={"Content-Type": "application/json", **env.headers("viewer")})
    assert response.status == 400
    assert "nested deeper" in (await response.json())["error"]


@_ONE_ENV
@given(nested=nested_json())
async def test_the_tip_webhook_refuses_deep_json(env: Env, nested: str) -> None:
    body = with_field(nested, "message", streamId=env.stream.id, idempotencyKey="deep",
                      amountMinor=100, currency="EUR")
    response = await env.client.post("/api/webhooks/tips", data=body, headers={
        SIGNATURE_HEADER: sign(WEBHOOK_SECRET, int(time.time()), body),
        "Content-Type": "application/json"})
    assert response.status == 400
    assert "nested deeper" in (await response.json())["error"]
    assert await env.store.tips.for_stream(env.stream.id) == []
