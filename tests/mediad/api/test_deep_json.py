"""Deeply nested JSON bodies get a 400 with a JSON error, never a 500 (hypothesis picks
the nesting; the server is the real API over a real store)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.mediad.api.conftest import ApiEnv
from tests.mediad.nesting_testing import nested_json, with_field

# One server for all examples: each request is refused before it changes anything.
_ONE_ENV = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


async def _post(env: ApiEnv, path: str, body: bytes, who: str | None = None,
                method: str = "POST") -> tuple[int, dict[str, object]]:
    assert len(body) < 16 * 1024
    response = await env.client.request(method, path, data=body, headers={
        "Content-Type": "application/json", **env.headers(who)})
    return response.status, await response.json()


@_ONE_ENV
@given(nested=nested_json())
async def test_sign_in_refuses_deep_nesting(env: ApiEnv, nested: str) -> None:
    for body in (with_field(nested, "handle", password="x"),
                 with_field(nested, "password", handle="carla"), nested.encode()):
        status, reply = await _post(env, "/api/auth/login", body)
        assert status == 400 and "nested deeper" in str(reply["error"])


@_ONE_ENV
@given(nested=nested_json())
async def test_refresh_and_sign_out_refuse_deep_nesting(env: ApiEnv, nested: str) -> None:
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        status, reply = await _post(env, path, with_field(nested, "refreshToken"))
        assert status == 400 and "nested deeper" in str(reply["error"])


@_ONE_ENV
@given(nested=nested_json())
async def test_creator_writes_refuse_deep_nesting(env: ApiEnv, nested: str) -> None:
    status, reply = await _post(env, "/api/streams", with_field(nested, "title"), "creator")
    assert status == 400 and "nested deeper" in str(reply["error"])
    status, reply = await _post(env, f"/api/streams/{env.stream.id}/settings",
                                with_field(nested, "blockedWords"), "creator", "PATCH")
    assert status == 400 and "nested deeper" in str(reply["error"])


@_ONE_ENV
@given(nested=nested_json(max_depth=250))
async def test_player_reports_refuse_deep_nesting(env: ApiEnv, nested: str) -> None:
    body = with_field(nested, "ttffMs")
    if len(body) <= 2048:  # the reports' own body limit; past it a 413
        status, reply = await _post(env, f"/api/streams/{env.stream.id}/metrics", body)
        assert status == 400 and "nested deeper" in str(reply["error"])


async def test_ordinary_nesting_reaches_field_validation(env: ApiEnv) -> None:
    status, reply = await _post(env, "/api/auth/login",
                                b'{"handle": "carla", "password": [[["x"]]]}')
    assert status == 422 and "password" in str(reply)  # a field error, not a parse one
