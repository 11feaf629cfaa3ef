"""Who may do what, as a matrix: every creator endpoint and every moderation endpoint
against every kind of caller. A 2xx is checked as strictly as a refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mediad.api.conftest import ApiEnv
from tests.mediad.api.recordings_testing import keep, on_air

CALLERS = ["anonymous", "viewer", "moderator", "other_creator", "creator", "admin"]

# (method, path template, body): the stream's keys, settings, lifecycle and analytics.
MANAGE: list[tuple[str, str, Any]] = [
    ("GET", "/api/streams/{s}/keys", None),
    ("POST", "/api/streams/{s}/keys/primary/reveal", None),
    ("POST", "/api/streams/{s}/keys/backup/rotate", None),
    ("GET", "/api/streams/{s}/keys/audit", None),
    ("GET", "/api/streams/{s}/settings", None),
    ("PATCH", "/api/streams/{s}/settings", {"watermark": True}),
    ("PATCH", "/api/streams/{s}/settings", {"dvrWindowSec": 300}),
    ("PATCH", "/api/streams/{s}/settings", {"blockedWords": ["spam"]}),
    ("PATCH", "/api/streams/{s}", {"title": "Renamed"}),
    ("PUT", "/api/streams/{s}/state", {"state": "ended"}),
    ("GET", "/api/streams/{s}/analytics", None),
    ("GET", "/api/streams/{s}/moderators", None),
    ("PUT", "/api/streams/{s}/moderators/vic", None),
    ("DELETE", "/api/streams/{s}", None),
]
# Moderation: the creator, an admin and the stream's moderators.
MODERATE: list[tuple[str, str, Any]] = [
    ("POST", "/api/streams/{s}/chat-clear", None),
    ("PUT", "/api/streams/{s}/slow-mode", {"seconds": 5}),
    ("POST", "/api/streams/{s}/moderation/timeouts", {"target": "u:{viewer}", "seconds": 60}),
    ("PUT", "/api/streams/{s}/moderation/bans/u:{viewer}", None),
    ("GET", "/api/streams/{s}/moderation/bans", None),
    ("GET", "/api/streams/{s}/moderation/actions", None),
    ("GET", "/api/streams/{s}/health", None),
]
ALLOWED_TO_MANAGE = {"creator", "admin"}
ALLOWED_TO_MODERATE = {"creator", "admin", "moderator"}


def _expected(caller: str, allowed: set[str]) -> int | None:
    if caller in allowed:
        return None  # any 2xx
    return 401 if caller == "anonymous" else 403


def _fill(env: ApiEnv, template: str, body: Any) -> tuple[str, Any]:
    values = {"s": env.stream.id, "viewer": env.users["viewer"].id}
    path = template.format(**values)
    if isinstance(body, dict):
        body = {k: v.format(**values) if isinstance(v, str) else v for k, v in body.items()}
    return path, body


async def _check(env: ApiEnv, caller: str, method: str, template: str, body: Any,
                 allowed: set[str]) -> None:
    path, body = _fill(env, template, body)
    who = None if caller == "anonymous" else caller
    status, reply = await env.call(method, path, who, json=body)
    expected = _expected(caller, allowed)
    if expected is None:
        assert 200 <= status < 300, (caller, method, path, status, reply)
    else:
        assert status == expected, (caller, method, path, status, reply)
        assert isinstance(reply["error"], str) and reply["error"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method, template, body", MANAGE,
                         ids=[f"{m} {p} {b}" for m, p, b in MANAGE])
async def test_only_the_creator_or_an_admin_manages_a_stream(
        env: ApiEnv, caller: str, method: str, template: str, body: Any) -> None:
    await _check(env, caller, method, template, body, ALLOWED_TO_MANAGE)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method, template, body", MODERATE,
                         ids=[f"{m} {p}" for m, p, _ in MODERATE])
async def test_moderators_moderate_and_nothing_more(
        env: ApiEnv, caller: str, method: str, template: str, body: Any) -> None:
    await _check(env, caller, method, template, body, ALLOWED_TO_MODERATE)


async def test_a_creator_cannot_reach_another_creators_stream_by_its_id(env: ApiEnv) -> None:
    for method, template, body in MANAGE:
        path, filled = _fill(env, template.replace("{s}", env.other_stream.id), body)
        status, _ = await env.call(method, path, "creator", json=filled)
        assert status == 403, (method, path)
    assert await env.store.streams.get(env.other_stream.id) == env.other_stream


async def test_a_missing_stream_is_not_found_for_everyone(env: ApiEnv) -> None:
    status, body = await env.call("GET", "/api/streams/nosuchstream/keys", "admin")
    assert status == 404 and body == {"error": "no such stream"}


# Recordings and clips: who sees them depends on the stream's replaysPublic; a broadcast
# recording is deleted by its creator or an admin, a clip also by the stream's moderators
# (and by whoever cut it: here the admin, so that cutting gives nobody else a right).
# (method, path template, status per caller): "{b}" is a broadcast recording of the stream,
# "{c}" a clip of it; the stream is not on air (a clip request gets 409 once allowed).
PUBLIC_REPLAYS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/api/streams/{s}/recordings", dict.fromkeys(CALLERS, 200)),
    ("GET", "/api/streams/{s}/clips", dict.fromkeys(CALLERS, 200)),
    ("GET", "/api/recordings/{b}", dict.fromkeys(CALLERS, 200)),
    ("GET", "/api/recordings/{c}", dict.fromkeys(CALLERS, 200)),
    ("GET", "/api/replays", dict.fromkeys(CALLERS, 200)),
    ("DELETE", "/api/recordings/{b}", {"anonymous": 401, "viewer": 403, "moderator": 403,
                                       "other_creator": 403, "creator": 204, "admin": 204}),
    ("DELETE", "/api/recordings/{c}", {"anonymous": 401, "viewer": 403, "moderator": 204,
                                       "other_creator": 403, "creator": 204, "admin": 204}),
    ("POST", "/api/streams/{s}/clips", {**dict.fromkeys(CALLERS, 409), "anonymous": 401}),
]
ALLOWED_PRIVATE = {"creator", "admin", "moderator"}
PRIVATE_REPLAYS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/api/streams/{s}/recordings", {"anonymous": 401, "viewer": 403,
                                            "other_creator": 403,
                                            **dict.fromkeys(ALLOWED_PRIVATE, 200)}),
    ("GET", "/api/streams/{s}/clips", {"anonymous": 401, "viewer": 403, "other_creator": 403,
                                       **dict.fromkeys(ALLOWED_PRIVATE, 200)}),
    ("GET", "/api/recordings/{b}", {"anonymous": 404, "viewer": 404, "other_creator": 404,
                                    **dict.fromkeys(ALLOWED_PRIVATE, 200)}),
    ("GET", "/api/recordings/{c}", {"anonymous": 404, "viewer": 404, "other_creator": 404,
                                    **dict.fromkeys(ALLOWED_PRIVATE, 200)}),
    ("DELETE", "/api/recordings/{b}", {"anonymous": 401, "viewer": 404, "moderator": 403,
                                       "other_creator": 404, "creator": 204, "admin": 204}),
    ("DELETE", "/api/recordings/{c}", {"anonymous": 401, "viewer": 404, "moderator": 204,
                                       "other_creator": 404, "creator": 204, "admin": 204}),
    ("POST", "/api/streams/{s}/clips", {"anonymous": 401, "viewer": 403, "other_creator": 403,
                                        **dict.fromkeys(ALLOWED_PRIVATE, 409)}),
]


async def _check_recordings(env: ApiEnv, caller: str, method: str, template: str,
                            expected: dict[str, int], *, public: bool) -> None:
    if not public:
        await env.store.streams.update(env.stream.id, replays_public=False)
    broadcast = await keep(env, env.stream.id)
    clip = await keep(env, env.stream.id, kind="clip", by=env.users["admin"])
    path = template.format(s=env.stream.id, b=broadcast.id, c=clip.id)
    who = None if caller == "anonymous" else caller
    body = {"durationSec": 5} if method == "POST" else None
    status, reply = await env.call(method, path, who, json=body)
    assert status == expected[caller], (caller, method, path, status, reply)
    if status >= 400:
        assert isinstance(reply["error"], str) and reply["error"]
    target = broadcast if "{b}" in template else clip if "{c}" in template else None
    if method == "DELETE" and target is not None:
        assert target.directory.exists() == (status != 204)
        assert (env.recorder.library.get(target.id) is None) == (status == 204)
    if method == "GET" and path.endswith("/recordings") and status == 200:
        assert [r["id"] for r in reply["recordings"]] == [broadcast.id]
    if method == "GET" and path.endswith("/clips") and status == 200:
        assert [r["id"] for r in reply["clips"]] == [clip.id]
    if path == "/api/replays":
        assert [r["id"] for r in reply["replays"]] == [broadcast.id]


REPLAYS = [(True, *case) for case in PUBLIC_REPLAYS] + [
    (False, *case) for case in PRIVATE_REPLAYS]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("public, method, template, expected", REPLAYS,
                         ids=[f"{'public' if p else 'private'} {m} {t}"
                              for p, m, t, _ in REPLAYS])
async def test_who_sees_and_deletes_recordings_and_clips(
        env: ApiEnv, caller: str, public: bool, method: str, template: str,
        expected: dict[str, int]) -> None:
    await _check_recordings(env, caller, method, template, expected, public=public)


async def test_private_replays_stay_out_of_discovery_even_for_those_who_may_see_them(
        env: ApiEnv) -> None:
    await env.store.streams.update(env.stream.id, replays_public=False)
    await keep(env, env.stream.id)
    for caller in CALLERS:
        status, body = await env.call("GET", "/api/replays",
                                      None if caller == "anonymous" else caller)
        assert status == 200 and body == {"replays": []}, caller


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "anonymous"])
async def test_every_signed_in_caller_clips_a_live_stream_with_public_replays(
        env: ApiEnv, caller: str) -> None:
    await on_air(env, env.stream.id, seconds=2)
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/clips", caller,
                                  json={"durationSec": 1})
    assert status == 201 and body["createdBy"] == env.users[caller].handle, (caller, body)
