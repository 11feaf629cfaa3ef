"""Tips: ISO 4217 currencies only, and idempotency keys scoped to their stream."""

from __future__ import annotations

import json
import time

import pytest

from mediad.realtime.currencies import ISO_4217_CURRENCIES
from mediad.realtime.tips import SIGNATURE_HEADER, sign
from tests.mediad.realtime.conftest import WEBHOOK_SECRET, Env


async def _deliver(env: Env, stream_id: str, key: str, currency: str = "EUR",
                   amount: int = 500) -> tuple[int, dict[str, object]]:
    body = json.dumps({"streamId": stream_id, "idempotencyKey": key, "amountMinor": amount,
                       "currency": currency}).encode()
    response = await env.client.post("/api/webhooks/tips", data=body, headers={
        SIGNATURE_HEADER: sign(WEBHOOK_SECRET, int(time.time()), body),
        "Content-Type": "application/json"})
    return response.status, await response.json()


@pytest.mark.parametrize("code", ["ABC", "QQQ", "XTS", "XXX", "XAU", "HRK", "eur", "EURO"])
async def test_three_capital_letters_are_not_enough(env: Env, code: str) -> None:
    status, body = await _deliver(env, env.stream.id, f"pay-{code}", code)
    assert status == 400 and "ISO 4217" in str(body["error"])
    assert await env.store.tips.for_stream(env.stream.id) == []


async def test_active_currencies_are_accepted(env: Env) -> None:
    for n, code in enumerate(("EUR", "USD", "JPY", "KWD", "XOF", "ZWG", "SLE", "VES")):
        assert (await _deliver(env, env.stream.id, f"pay-{n}", code))[0] == 201
    totals = await env.store.tips.totals(env.stream.id)
    assert set(totals) == {"EUR", "USD", "JPY", "KWD", "XOF", "ZWG", "SLE", "VES"}


def test_the_list_is_codes_of_three_capital_letters_in_order() -> None:
    assert len(ISO_4217_CURRENCIES) > 150
    assert list(ISO_4217_CURRENCIES) == sorted(set(ISO_4217_CURRENCIES))
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ISO_4217_CURRENCIES)


async def test_a_key_reused_on_another_stream_is_another_tip(env: Env) -> None:
    first, ours = await _deliver(env, env.stream.id, "pay_shared", amount=500)
    assert first == 201 and ours["duplicate"] is False
    status, theirs = await _deliver(env, env.other_stream.id, "pay_shared", amount=700)
    assert status == 201 and theirs["duplicate"] is False and theirs["id"] != ours["id"]
    status, again = await _deliver(env, env.other_stream.id, "pay_shared", amount=700)
    assert status == 200 and again == {"id": theirs["id"], "duplicate": True}
    assert await env.store.tips.totals(env.stream.id) == {"EUR": (500, 1)}
    assert await env.store.tips.totals(env.other_stream.id) == {"EUR": (700, 1)}
