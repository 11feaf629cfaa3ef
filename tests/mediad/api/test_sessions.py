"""Signing in and out: cookies and bearer tokens, refresh rotation, rate limits."""

from __future__ import annotations

from pathlib import Path

from mediad.auth import ACCESS_COOKIE, REFRESH_COOKIE, SESSION_HINT_COOKIE
from mediad.config import AuthConfig
from tests.mediad.api.conftest import ApiEnv, close_api_env, make_api_env, password_of


async def login(env: ApiEnv, who: str, password: str | None = None) -> tuple[int, dict]:
    handle = env.users[who].handle
    return await env.call("POST", "/api/auth/login",
                          json={"handle": handle, "password": password or password_of(who)})


async def test_sign_in_returns_tokens_and_strict_httponly_cookies(env: ApiEnv) -> None:
    response = await env.client.post("/api/auth/login", json={
        "handle": "CARLA", "password": password_of("creator")})  # handles ignore case
    assert response.status == 200
    body = await response.json()
    assert body["user"]["handle"] == "carla" and body["user"]["role"] == "creator"
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 900
    cookies = {c.key: c for c in response.cookies.values()}
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        assert cookies[name]["httponly"] and cookies[name]["samesite"] == "Strict"
    assert cookies[REFRESH_COOKIE]["path"] == "/api/auth"
    status, me = await env.call("GET", "/api/me",
                                headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert status == 200 and me["user"]["handle"] == "carla"
    assert [s["id"] for s in me["streams"]] == [env.stream.id]


async def test_a_browser_is_signed_in_by_its_cookie_and_out_again(env: ApiEnv) -> None:
    browser = await env.browser()
    response = await browser.post("/api/auth/login", json={
        "handle": "moe", "password": password_of("moderator")})
    assert response.status == 200
    me = await browser.get("/api/me")
    assert me.status == 200 and (await me.json())["moderates"] == [env.stream.id]
    out = await browser.post("/api/auth/logout")
    assert out.status == 204
    assert (await browser.get("/api/me")).status == 401
    assert (await browser.post("/api/auth/refresh")).status == 401


async def test_the_session_hint_lives_as_long_as_the_refresh_token_and_grants_nothing(
        env: ApiEnv) -> None:
    """The web app reads the hint to know whether to ask /api/me at all; it is the only
    cookie it can read, it goes with sign-out, and on its own it signs nobody in."""
    browser = await env.browser()
    response = await browser.post("/api/auth/login", json={
        "handle": "carla", "password": password_of("creator")})
    hint = response.cookies[SESSION_HINT_COOKIE]
    assert hint.value == "1" and not hint["httponly"] and hint["path"] == "/"
    assert hint["samesite"] == "Strict"
    assert hint["max-age"] == response.cookies[REFRESH_COOKIE]["max-age"]
    refreshed = await browser.post("/api/auth/refresh")
    assert refreshed.status == 200 and SESSION_HINT_COOKIE in refreshed.cookies
    out = await browser.post("/api/auth/logout")
    assert out.cookies[SESSION_HINT_COOKIE]["max-age"] == "0"
    only_hint = await env.client.get("/api/me", headers={"Cookie": f"{SESSION_HINT_COOKIE}=1"})
    assert only_hint.status == 401


async def test_wrong_password_and_unknown_handle_look_the_same(env: ApiEnv) -> None:
    wrong = await login(env, "creator", "not the password")
    unknown = await env.call("POST", "/api/auth/login",
                             json={"handle": "nobody", "password": "whatever"})
    assert wrong == unknown == (401, {"error": "wrong handle or password"})


async def test_sign_in_validates_its_fields(env: ApiEnv) -> None:
    status, body = await env.call("POST", "/api/auth/login", json={"handle": "", "x": 1})
    assert status == 422
    assert set(body["fields"]) == {"handle", "password", "x"}
    status, body = await env.call("POST", "/api/auth/login", json=["not", "an", "object"])
    assert status == 400


async def test_refresh_rotates_and_a_spent_token_fails(env: ApiEnv) -> None:
    _, first = await login(env, "creator")
    status, second = await env.call("POST", "/api/auth/refresh",
                                    json={"refreshToken": first["refreshToken"]})
    assert status == 200 and second["refreshToken"] != first["refreshToken"]
    status, _ = await env.call("POST", "/api/auth/refresh",
                               json={"refreshToken": first["refreshToken"]})
    assert status == 401
    await env.call("POST", "/api/auth/logout", json={"refreshToken": second["refreshToken"]})
    status, _ = await env.call("POST", "/api/auth/refresh",
                               json={"refreshToken": second["refreshToken"]})
    assert status == 401


async def test_a_forged_or_expired_token_is_refused_not_treated_as_anonymous(
        env: ApiEnv) -> None:
    forged = env.tokens.issue_access(env.users["viewer"])[:-4] + "AAAA"
    status, body = await env.call("GET", f"/api/streams/{env.stream.id}/keys",
                                  headers={"Authorization": f"Bearer {forged}"})
    assert status == 401 and "invalid" in body["error"]
    # Public pages ignore a stale token: discovery still works for a signed-out browser.
    assert (await env.call("GET", "/api/streams",
                           headers={"Authorization": f"Bearer {forged}"}))[0] == 200
    expired = env.tokens.issue_access(env.users["viewer"], now=0)
    status, _ = await env.call("GET", "/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert status == 401


async def test_sign_in_is_rate_limited_per_address(tmp_path: Path) -> None:
    env = await make_api_env(tmp_path, auth=AuthConfig(login_attempts_per_minute_per_ip=3))
    try:
        for _ in range(3):
            assert (await login(env, "viewer", "wrong"))[0] == 401
        response = await env.client.post("/api/auth/login", json={
            "handle": "vic", "password": password_of("viewer")})
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert "sign-in attempts" in (await response.json())["error"]
    finally:
        await close_api_env(env)


async def test_sign_in_is_rate_limited_per_account(tmp_path: Path) -> None:
    env = await make_api_env(tmp_path, auth=AuthConfig(login_attempts_per_hour_per_account=2))
    try:
        for _ in range(2):
            assert (await login(env, "creator", "guess"))[0] == 401
        assert (await login(env, "creator"))[0] == 429  # even the right password, for now
        assert (await login(env, "viewer"))[0] == 200  # another account is not held up
    finally:
        await close_api_env(env)
