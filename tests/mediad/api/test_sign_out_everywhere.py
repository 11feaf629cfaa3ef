"""``mediad user passwd`` signs the account out everywhere: run as its own process while
the daemon's API serves the same database, it voids the access tokens already handed out
(not only the refresh tokens), on the HTTP API and on the WebSocket."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from mediad.auth import Tokens, user_for_token
from tests.mediad.api.conftest import ApiEnv, password_of


async def _passwd(tmp_path: Path, handle: str, password: str) -> None:
    config = tmp_path / "cli.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path}"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mediad", "--config", str(config), "user", "passwd", handle,
        "--password-stdin", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(f"{password}\n".encode()), 60)
    assert process.returncode == 0, err.decode()
    assert b"1 session(s) signed out" in out


async def _sign_in(env: ApiEnv, handle: str, password: str) -> tuple[int, dict[str, str]]:
    return await env.call("POST", "/api/auth/login",
                          json={"handle": handle, "password": password})


async def test_a_password_changed_on_the_command_line_voids_every_token(
        env: ApiEnv, tmp_path: Path) -> None:
    status, session = await _sign_in(env, "carla", password_of("creator"))
    assert status == 200
    bearer = {"Authorization": f"Bearer {session['accessToken']}"}
    assert (await env.call("GET", "/api/me", headers=bearer))[0] == 200
    assert (await env.call("GET", "/api/me", "viewer"))[0] == 200

    await _passwd(tmp_path, "carla", "a brand new secret")

    status, body = await env.call("GET", "/api/me", headers=bearer)
    assert status == 401 and "invalid" in body["error"]
    status, _ = await env.call("POST", "/api/auth/refresh",
                               json={"refreshToken": session["refreshToken"]})
    assert status == 401
    try:
        await env.client.ws_connect(f"/ws/streams/{env.stream.id}", headers=bearer)
        raise AssertionError("a signed-out token opened a socket")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    assert (await env.call("GET", "/api/me", "viewer"))[0] == 200  # others stay signed in
    assert (await _sign_in(env, "carla", password_of("creator")))[0] == 401
    status, fresh = await _sign_in(env, "carla", "a brand new secret")
    assert status == 200
    me = await env.call("GET", "/api/me", headers={
        "Authorization": f"Bearer {fresh['accessToken']}"})
    assert me[0] == 200 and me[1]["user"]["handle"] == "carla"
    status, _ = await env.call("POST", "/api/auth/refresh",
                               json={"refreshToken": fresh["refreshToken"]})
    assert status == 200


async def test_a_token_of_an_older_generation_names_no_one(env: ApiEnv) -> None:
    user = env.users["viewer"]
    tokens: Tokens = env.tokens
    old = tokens.issue_access(user)
    async with env.store.transaction():
        await env.store.users.set_password_hash(user.id, user.password_hash)
    assert await user_for_token(old, tokens, env.store.users) is None
    current = await env.store.users.get(user.id)
    assert current is not None and current.token_generation == user.token_generation + 1
    found = await user_for_token(tokens.issue_access(current), tokens, env.store.users)
    assert found == current


async def test_a_refresh_token_of_an_older_generation_is_spent(env: ApiEnv) -> None:
    user = env.users["viewer"]
    token = await env.store.refresh_tokens.issue(user.id, 0, 10**15, user.token_generation)
    async with env.store.transaction():
        await env.store.users.set_password_hash(user.id, user.password_hash)
    assert await env.store.refresh_tokens.consume(token, 1) is None
