"""The tip webhook: HMAC signature, replay window, idempotency, validation, broadcast."""

from __future__ import annotations

import json
import time
from typing import Any

from mediad.realtime.tips import SIGNATURE_HEADER, sign
from tests.mediad.realtime.conftest import WEBHOOK_SECRET, Env

PATH = "/api/webhooks/tips"


def tip_body(env: Env, key: str = "pay_1", **fields: Any) -> bytes:
    return json.dumps({"streamId": env.stream.id, "idempotencyKey": key, "amountMinor": 500,
                       "currency": "EUR", "from": "Ada", "message": "great show",
                       **fields}).encode()


async def deliver(env: Env, body: bytes, *, secret: str = WEBHOOK_SECRET,
                  at: float | None = None, header: str | None = None
                  ) -> tuple[int, dict[str, Any]]:
    signature = header if header is not None else sign(secret, int(at or time.time()), body)
    response = await env.client.post(PATH, data=body, headers={
        SIGNATURE_HEADER: signature, "Content-Type": "application/json"})
    return response.status, await response.json()


async def test_a_signed_tip_is_recorded_and_broadcast(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    status, body = await deliver(env, tip_body(env, message="<img src=x onerror=alert(1)>"))
    assert status == 201 and body["duplicate"] is False
    tip = await socket.next("tip")
    assert tip["amountMinor"] == 500 and tip["currency"] == "EUR" and tip["from"] == "Ada"
    assert tip["message"] == "<img src=x onerror=alert(1)>"  # text, for the client to show as text
    assert tip["seq"] == body["seq"]
    assert await env.store.tips.totals(env.stream.id) == {"EUR": (500, 1)}


async def test_a_retried_delivery_counts_once(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    body = tip_body(env, key="pay_dup")
    first = await deliver(env, body)
    second = await deliver(env, body, at=time.time() + 1)
    assert first[0] == 201 and second == (200, {"id": first[1]["id"], "duplicate": True})
    await socket.next("tip")
    await socket.nothing("tip")
    assert await env.store.tips.totals(env.stream.id) == {"EUR": (500, 1)}
    assert len(await env.store.tips.for_stream(env.stream.id)) == 1


async def test_bad_signatures_and_replays_are_refused(env: Env) -> None:
    body = tip_body(env)
    assert (await deliver(env, body, secret="wrong-secret"))[0] == 401
    assert (await deliver(env, body, header=""))[0] == 401
    assert (await deliver(env, body, header="t=abc,v1=00"))[0] == 401
    stale = await deliver(env, body, at=time.time() - 301)
    assert stale[0] == 401 and "replay" in stale[1]["error"]
    assert (await deliver(env, body, at=time.time() + 301))[0] == 401
    # A signature over other bytes (the amount changed in flight) is refused.
    header = sign(WEBHOOK_SECRET, int(time.time()), body)
    assert (await deliver(env, tip_body(env, amountMinor=50000), header=header))[0] == 401
    assert await env.store.tips.for_stream(env.stream.id) == []


async def test_invalid_tips_get_clear_errors(env: Env) -> None:
    cases = [{"amountMinor": 0}, {"amountMinor": -5}, {"amountMinor": 1.5},
             {"amountMinor": True}, {"currency": "euro"}, {"idempotencyKey": ""},
             {"idempotencyKey": "x" * 129}, {"message": "y" * 281}, {"from": 7}]
    for n, fields in enumerate(cases):
        status, body = await deliver(env, tip_body(env, key=f"k{n}", **fields))
        assert status == 400 and body["error"], fields
    status, body = await deliver(env, tip_body(env, streamId="nosuchstream"))
    assert status == 404
    status, body = await deliver(env, b"[1, 2]")
    assert status == 400
    assert await env.store.tips.for_stream(env.stream.id) == []


async def test_blocked_words_are_not_shown_but_the_tip_counts(env: Env) -> None:
    env.tips.blocked_words = type(env.tips.blocked_words)(["slur"])
    status, _ = await deliver(env, tip_body(env, message="a SLUR here"))
    assert status == 201
    tips = await env.store.tips.for_stream(env.stream.id)
    assert tips[0].message == "" and tips[0].amount_minor == 500
