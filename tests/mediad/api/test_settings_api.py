"""Stream settings: each field validated with a clear error; changes stored and broadcast."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mediad.config import Config
from tests.mediad.api.conftest import ApiEnv, close_api_env, make_api_env
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
    ("record", "yes", "true or false"),
    ("record", None, "true or false"),
    ("recordKeepDays", -1, "from 0 to 36500"),
    ("recordKeepDays", 36501, "from 0 to 36500"),
    ("recordKeepDays", 7.5, "integer"),
    ("recordKeepDays", False, "integer"),
    ("recordKeepDays", "30", "integer"),
    ("replaysPublic", 0, "true or false"),
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
                    "realtimePlayback": False, "record": True, "recordKeepDays": None,
                    "replaysPublic": True}
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


async def test_recording_settings_follow_the_server_until_the_creator_chooses(
        tmp_path: Path) -> None:
    base = Config()
    environment = await make_api_env(
        tmp_path, recording=replace(base.recording, enabled=False))
    try:
        path = f"/api/streams/{environment.stream.id}/settings"
        status, body = await environment.call("GET", path, "creator")
        assert status == 200
        assert (body["record"], body["recordKeepDays"], body["replaysPublic"]) == (
            False, None, True)
        status, body = await environment.call(
            "PATCH", path, "creator",
            json={"record": True, "recordKeepDays": 0, "replaysPublic": False})
        assert status == 200
        assert (body["record"], body["recordKeepDays"], body["replaysPublic"]) == (
            True, 0, False)
        stored = await environment.store.streams.get(environment.stream.id)
        assert stored is not None
        assert (stored.record, stored.record_keep_days, stored.replays_public) == (
            True, 0, False)
        status, body = await environment.call("PATCH", path, "creator",
                                              json={"recordKeepDays": None})
        assert status == 200 and body["recordKeepDays"] is None and body["record"] is True
        stored = await environment.store.streams.get(environment.stream.id)
        assert stored is not None and stored.record_keep_days is None
        # The other stream never chose: still the server's default.
        _, other = await environment.call(
            "GET", f"/api/streams/{environment.other_stream.id}/settings", "other_creator")
        assert other["record"] is False
    finally:
        await close_api_env(environment)


async def test_recording_settings_are_not_broadcast_to_viewers(env: ApiEnv) -> None:
    ws = Socket(await env.client.ws_connect(f"/ws/streams/{env.stream.id}"))
    await ws.next("chat.history")
    path = f"/api/streams/{env.stream.id}/settings"
    status, _ = await env.call("PATCH", path, "creator",
                               json={"record": False, "recordKeepDays": 7,
                                     "replaysPublic": False})
    assert status == 200
    event = await ws.next("stream.settings")
    assert not {"record", "recordKeepDays", "replaysPublic"} & set(event)
    await ws.close()


async def test_only_the_streams_managers_change_recording(env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}/settings"
    for who in ("moderator", "other_creator", "viewer"):
        status, _ = await env.call("PATCH", path, who, json={"record": False,
                                                             "replaysPublic": False})
        assert status == 403, who
    assert await env.store.streams.get(env.stream.id) == env.stream
