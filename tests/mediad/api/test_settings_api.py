"""Stream settings: each field validated with a clear error; changes stored and broadcast."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mediad.api.conftest import ApiEnv
from tests.mediad.realtime.conftest import Socket


@pytest.mark.parametrize("field, value, problem", [
    ("dvrWindowSec", -1, "from 0 to 7200"),
    ("dvrWindowSec", 7201, "from 0 to 7200"),
    ("dvrWindowSec", 60.5, "integer"),
    ("dvrWindowSec", True, "integer"),
    ("ageRestricted", "yes", "true or false"),
    ("watermark", 1, "true or false"),
    ("slowModeSec", -5, "from 0 to 3600"),
    ("slowModeSec", 86400, "from 0 to 3600"),
    ("guestsMayChat", None, "true or false"),
    ("realtimePlayback", "on", "true or false"),
    ("blockedWords", "spam", "list"),
    ("blockedWords", ["ok", ""], "1 to 64"),
    ("blockedWords", ["x" * 65], "1 to 64"),
    ("blockedWords", ["w"] * 501, "at most 500"),
    ("colour", "red", "unknown field"),
])
async def test_each_setting_is_validated(env: ApiEnv, field: str, value: Any,
                                         problem: str) -> None:
    status, body = await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                                  json={field: value})
    assert status == 422
    assert list(body["fields"]) == [field] and problem in body["fields"][field]
    assert field in body["error"]
    unchanged = await env.store.streams.get(env.stream.id)
    assert unchanged == env.stream


async def test_a_change_is_stored_and_broadcast_to_viewers(env: ApiEnv) -> None:
    ws = Socket(await env.client.ws_connect(f"/ws/streams/{env.stream.id}"))
    await ws.next("chat.history")
    status, body = await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                                  json={"dvrWindowSec": 600, "ageRestricted": True,
                                        "watermark": True, "slowModeSec": 10,
                                        "guestsMayChat": False,
                                        "blockedWords": ["Spam", "spam", "scam"]})
    assert status == 200
    assert body == {"dvrWindowSec": 600, "ageRestricted": True, "watermark": True,
                    "slowModeSec": 10, "guestsMayChat": False, "blockedWords": ["spam", "scam"],
                    "realtimePlayback": False}
    event = await ws.next("stream.settings")
    assert event["dvrWindowSec"] == 600 and event["slowModeSec"] == 10
    assert event["ageRestricted"] is True and event["guestsMayChat"] is False
    assert "blockedWords" not in event  # a spammer is not told what to avoid
    stored = await env.store.streams.get(env.stream.id)
    assert stored is not None and stored.blocked_words == ("spam", "scam")
    assert (await env.call("GET", f"/api/streams/{env.stream.id}/settings", "creator"))[1] == body
    await ws.close()


async def test_the_new_settings_rule_the_chat_at_once(env: ApiEnv) -> None:
    await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                   json={"guestsMayChat": False, "blockedWords": ["scam"]})
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/chat", None,
                                  json={"text": "hello"})
    assert status == 403 and body["code"] == "sign_in_required"
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/chat", "viewer",
                                  json={"text": "a SCAM here"})
    assert status == 400 and body["code"] == "blocked_word"


async def test_real_time_playback_is_off_by_default_and_reaches_the_watch_page(
        env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}/settings"
    assert (await env.call("GET", path, "creator"))[1]["realtimePlayback"] is False
    assert (await env.call("GET", f"/api/streams/{env.stream.id}"))[1][
        "realtimePlayback"] is False
    ws = Socket(await env.client.ws_connect(f"/ws/streams/{env.stream.id}"))
    await ws.next("chat.history")
    status, body = await env.call("PATCH", path, "creator", json={"realtimePlayback": True})
    assert status == 200 and body["realtimePlayback"] is True
    assert (await ws.next("stream.settings"))["realtimePlayback"] is True
    stored = await env.store.streams.get(env.stream.id)
    assert stored is not None and stored.realtime_playback and not stored.watermark
    _, detail = await env.call("GET", f"/api/streams/{env.stream.id}")  # what a viewer reads
    assert detail["realtimePlayback"] is True
    _, other = await env.call("GET", f"/api/streams/{env.other_stream.id}")
    assert other["realtimePlayback"] is False
    await ws.close()


async def test_only_the_streams_managers_change_real_time_playback(env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}/settings"
    status, _ = await env.call("PATCH", path, "other_creator", json={"realtimePlayback": True})
    assert status == 403
    stored = await env.store.streams.get(env.stream.id)
    assert stored is not None and not stored.realtime_playback
