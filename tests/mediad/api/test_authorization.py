"""Who may do what, as a matrix: every creator endpoint and every moderation endpoint
against every kind of caller. A 2xx is checked as strictly as a refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mediad.api.conftest import ApiEnv

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
