"""Real-time events counted where they happen: chat messages accepted, every limiter's
refusals, moderation actions, tips by currency (in the major unit)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediad.config import AuthConfig, ChatConfig
from mediad.http.app import METRICS
from mediad.metrics.registry import EVENTS
from mediad.ratelimit import RateLimiter
from mediad.realtime.currencies import ISO_4217_CURRENCIES, MINOR_DIGITS, major_amount
from mediad.realtime.tips import SIGNATURE_HEADER, sign
from tests.mediad.api.conftest import close_api_env, make_api_env, password_of
from tests.mediad.metrics.metrics_testing import value
from tests.mediad.realtime.conftest import WEBHOOK_SECRET, Env, running_env


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    chat = ChatConfig(messages_per_minute=2, messages_per_minute_per_ip=3)
    async with running_env(tmp_path, chat=chat) as environment:
        yield environment


def chat_path(env: Env) -> str:
    return f"/api/streams/{env.stream.id}/chat"


async def test_accepted_messages_and_each_limits_refusals_are_counted(env: Env) -> None:
    metrics = env.client.app[METRICS]

    def reading() -> tuple[float, float, float, float]:
        return (value(metrics, "mediad_chat_messages_total"),
                value(metrics, "mediad_ratelimit_refusals_total", limit="chat"),
                value(metrics, "mediad_ratelimit_refusals_total", limit="chat_address"),
                value(metrics, "mediad_ratelimit_refusals_total", limit="slow_mode"))

    before = reading()
    for text in ("one", "two", "three"):  # the viewer's budget is two a minute
        await env.post(chat_path(env), {"text": text}, "viewer")
    await env.post(chat_path(env), {"text": "guest"}, None)  # the address's third
    status, _ = await env.post(chat_path(env), {"text": "guest again"}, None)
    assert status == 429
    after = reading()
    # A refused message is not an accepted one.
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1, 1, 0]


async def test_slow_mode_refusals_are_counted(tmp_path: Path) -> None:
    async with running_env(tmp_path) as env:
        metrics = env.client.app[METRICS]
        before = value(metrics, "mediad_ratelimit_refusals_total", limit="slow_mode")
        await env.store.streams.update(env.stream.id, slow_mode_sec=30)
        assert (await env.post(chat_path(env), {"text": "a"}, "viewer"))[0] == 201
        assert (await env.post(chat_path(env), {"text": "b"}, "viewer"))[0] == 429
        assert (await env.post(chat_path(env), {"text": "mod"}, "moderator"))[0] == 201
        assert (await env.post(chat_path(env), {"text": "mod"}, "moderator"))[0] == 201
        assert value(metrics, "mediad_ratelimit_refusals_total",
                     limit="slow_mode") == before + 1


async def test_moderation_actions_by_action(env: Env) -> None:
    metrics = env.client.app[METRICS]
    viewer = f"u:{env.users['viewer'].id}"
    status, sent = await env.post(chat_path(env), {"text": "to delete"}, "viewer")
    assert status == 201
    creator = await env.connect("creator")
    before = {a: value(metrics, "mediad_moderation_actions_total", action=a)
              for a in ("timeout", "ban", "unban", "delete", "slow_mode")}
    assert (await creator.command(type="moderation.timeout", target=viewer,
                                  seconds=5))["type"] == "ack"
    assert (await creator.command(type="moderation.ban", target=viewer))["type"] == "ack"
    assert (await creator.command(type="moderation.unban", target=viewer))["type"] == "ack"
    assert (await creator.command(type="chat.delete", messageId=sent["id"]))["type"] == "ack"
    assert (await creator.command(type="moderation.slow_mode", seconds=10))["type"] == "ack"
    refused = await creator.command(type="chat.delete", messageId="nonexistent")
    assert refused["type"] == "error"  # not carried out: not counted
    for action, count in before.items():
        assert value(metrics, "mediad_moderation_actions_total", action=action) == count + 1


async def _deliver_tip(env: Env, key: str, amount_minor: int, currency: str) -> int:
    body = json.dumps({"streamId": env.stream.id, "idempotencyKey": key,
                       "amountMinor": amount_minor, "currency": currency}).encode()
    response = await env.client.post("/api/webhooks/tips", data=body, headers={
        SIGNATURE_HEADER: sign(WEBHOOK_SECRET, int(time.time()), body),
        "Content-Type": "application/json"})
    return response.status


async def test_tips_by_currency_in_the_major_unit_and_once_per_delivery(env: Env) -> None:
    metrics = env.client.app[METRICS]

    def tips(currency: str) -> tuple[float, float]:
        return (value(metrics, "mediad_tips_total", currency=currency),
                value(metrics, "mediad_tips_amount_total", currency=currency))

    usd, jpy = tips("USD"), tips("JPY")
    assert await _deliver_tip(env, "t-usd-1", 500, "USD") == 201
    assert await _deliver_tip(env, "t-usd-1", 500, "USD") == 200  # the provider retried
    assert await _deliver_tip(env, "t-usd-2", 1250, "USD") == 201
    assert await _deliver_tip(env, "t-jpy-1", 300, "JPY") == 201
    assert await _deliver_tip(env, "t-bad", 0, "USD") == 400
    assert tips("USD") == pytest.approx((usd[0] + 2, usd[1] + 17.5))
    assert tips("JPY") == pytest.approx((jpy[0] + 1, jpy[1] + 300.0))


def test_major_amounts_follow_iso_4217_minor_units() -> None:
    assert major_amount(500, "EUR") == 5.0
    assert major_amount(500, "JPY") == 500.0
    assert major_amount(500, "KWD") == 0.5
    assert major_amount(1, "CLP") == 1.0


def test_every_currency_with_other_minor_units_is_one_a_tip_may_be_in() -> None:
    assert set(MINOR_DIGITS) <= set(ISO_4217_CURRENCIES)


def test_a_named_limiter_counts_its_refusals() -> None:
    def refused() -> float | None:
        return EVENTS.get_sample_value("mediad_ratelimit_refusals_total",
                                       {"limit": "test_named"})

    named = RateLimiter(1, 60.0, limit="test_named")
    assert refused() == 0.0  # the series exists from the start
    assert named.acquire("k", 0.0) == 0.0
    assert named.acquire("k", 0.0) > 0
    assert named.acquire("k", 1.0) > 0
    assert refused() == 2.0


async def test_sign_in_and_api_write_refusals_are_counted(tmp_path: Path) -> None:
    api = await make_api_env(tmp_path, auth=AuthConfig(login_attempts_per_minute_per_ip=2))
    try:
        metrics = api.client.app[METRICS]
        before = value(metrics, "mediad_ratelimit_refusals_total", limit="login")
        statuses = []
        for password in ("wrong 1", "wrong 2", "wrong 3", password_of("creator")):
            response = await api.client.post("/api/auth/login", json={
                "handle": "carla", "password": password})
            statuses.append(response.status)
        assert statuses == [401, 401, 429, 429]
        assert value(metrics, "mediad_ratelimit_refusals_total", limit="login") == before + 2
    finally:
        await close_api_env(api)
