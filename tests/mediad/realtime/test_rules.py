"""Chat rules enforced on the server: slow mode, rate limits, guests, filters, sanctions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediad.clock import now_ms
from mediad.config import ChatConfig
from tests.mediad.realtime.conftest import Env, make_env


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Env]:
    env = await make_env(tmp_path, chat=ChatConfig(
        messages_per_minute=3, messages_per_minute_per_ip=5, blocked_words=("spoiler",),
        link_min_account_age_hours=24.0, max_message_length=40))
    try:
        yield env
    finally:
        await env.client.close()
        await env.registry.close()
        await env.store.close()


def chat_path(env: Env) -> str:
    return f"/api/streams/{env.stream.id}/chat"


async def test_slow_mode_says_how_long_to_wait(env: Env) -> None:
    await env.store.streams.update(env.stream.id, slow_mode_sec=30)
    status, _ = await env.post(chat_path(env), {"text": "first"}, "viewer")
    assert status == 201
    response = await env.client.post(chat_path(env), json={"text": "second"},
                                     headers=env.headers("viewer"))
    body = await response.json()
    assert response.status == 429 and body["code"] == "slow_mode"
    assert 28_000 < body["retryAfterMs"] <= 30_000
    assert response.headers["Retry-After"] == "30"
    # Another chatter is not held back by the first one's cooldown; staff never are.
    assert (await env.post(chat_path(env), {"text": "me too"}, "admin"))[0] == 201
    for _ in range(3):
        assert (await env.post(chat_path(env), {"text": "mods"}, "moderator"))[0] == 201
    # The cooldown is kept in the store: it holds across sockets and restarts.
    socket = await env.connect("viewer")
    refused = await socket.command(type="chat.send", text="over the socket")
    assert refused["code"] == "slow_mode" and refused["retryAfterMs"] > 28_000


async def test_slow_mode_cooldown_ends(env: Env) -> None:
    await env.store.streams.update(env.stream.id, slow_mode_sec=1)
    assert (await env.post(chat_path(env), {"text": "a"}, "viewer"))[0] == 201
    await env.store.db.execute("UPDATE chat_messages SET created_at = created_at - 1500")
    assert (await env.post(chat_path(env), {"text": "b"}, "viewer"))[0] == 201


async def test_per_chatter_and_per_address_rate_limits(strict: Env) -> None:
    for n in range(3):
        assert (await strict.post(chat_path(strict), {"text": f"m{n}"}, "viewer"))[0] == 201
    status, body = await strict.post(chat_path(strict), {"text": "m3"}, "viewer")
    assert status == 429 and body["code"] == "rate_limited" and body["retryAfterMs"] > 0
    # Another account from the same address: its own budget, but the address has 5 in all.
    assert (await strict.post(chat_path(strict), {"text": "g1"}, None))[0] == 201
    assert (await strict.post(chat_path(strict), {"text": "g2"}, None))[0] == 201
    status, body = await strict.post(chat_path(strict), {"text": "g3"}, None)
    assert status == 429 and body["code"] == "rate_limited"


async def test_guests_chat_only_where_allowed(env: Env) -> None:
    status, body = await env.post(chat_path(env), {"text": "hi"}, None)
    assert status == 201
    await env.store.streams.update(env.stream.id, guests_may_chat=False)
    status, body = await env.post(chat_path(env), {"text": "hi again"}, None)
    assert status == 403 and body["code"] == "sign_in_required"
    guest = await env.connect()
    assert (await guest.next("hello"))["you"]["canChat"] is False
    assert (await env.post(chat_path(env), {"text": "signed in"}, "viewer"))[0] == 201


async def test_blocked_words_global_and_per_stream(strict: Env) -> None:
    status, body = await strict.post(chat_path(strict), {"text": "big SPOILER ahead"}, "viewer")
    assert status == 400 and body["code"] == "blocked_word"
    await strict.store.streams.update(strict.stream.id, blocked_words=("bad phrase",))
    status, body = await strict.post(chat_path(strict), {"text": "a Bad  Phrase!"}, "admin")
    assert status == 201  # staff are not filtered
    status, body = await strict.post(chat_path(strict), {"text": "a bad phrase"}, None)
    assert status == 400 and body["code"] == "blocked_word"
    # Whole words only: "spoilers" and "unspoiler" are not "spoiler".
    assert (await strict.post(chat_path(strict), {"text": "no spoilers"}, "viewer"))[0] == 201


async def test_links_refused_from_new_viewers(env: Env) -> None:
    for text in ("see https://example.com/x", "www.example.org", "go to evil.tv now"):
        status, body = await env.post(chat_path(env), {"text": text}, None)
        assert status == 400 and body["code"] == "link_not_allowed", text
        status, body = await env.post(chat_path(env), {"text": text}, "viewer")
        assert status == 400 and body["code"] == "link_not_allowed", text  # a new account
    await env.store.db.execute("UPDATE users SET created_at = ? WHERE handle = 'vic'",
                               (now_ms() - 25 * 3_600_000,))
    assert (await env.post(chat_path(env), {"text": "www.example.org"}, "viewer"))[0] == 201
    assert (await env.post(chat_path(env), {"text": "version 1.2 is out"}, None))[0] == 201


async def test_length_limit_counts_cleaned_characters(strict: Env) -> None:
    assert (await strict.post(chat_path(strict), {"text": "  " + "é" * 40 + "\x00\n "},
                              "viewer"))[0] == 201
    status, body = await strict.post(chat_path(strict), {"text": "x" * 41}, "viewer")
    assert status == 400 and body["code"] == "too_long"


async def test_bans_and_timeouts_hold_in_every_path(env: Env) -> None:
    viewer = f"u:{env.users['viewer'].id}"
    socket = await env.connect("viewer")
    creator = await env.connect("creator")
    await creator.command(type="moderation.timeout", target=viewer, seconds=5)
    refused = await socket.command(type="chat.send", text="hello?")
    assert refused["code"] == "timed_out" and 0 < refused["retryAfterMs"] <= 5000
    await env.store.db.execute("UPDATE chat_sanctions SET muted_until = ?", (now_ms() - 1,))
    assert (await socket.command(type="chat.send", text="free"))["type"] == "ack"
    await creator.command(type="moderation.ban", target=viewer)
    assert (await socket.command(type="chat.send", text="x"))["code"] == "banned"
    again = await env.connect("viewer")
    assert (await again.next("hello"))["you"]["canChat"] is False
    guest = await env.connect()
    guest_id = (await guest.next("hello"))["you"]["id"]
    await creator.command(type="moderation.ban", target=guest_id)
    assert (await guest.command(type="chat.send", text="x"))["code"] == "banned"
