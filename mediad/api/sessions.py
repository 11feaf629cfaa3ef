"""Signing in and out: a short-lived access token (JWT) and a rotating refresh token, both
as HttpOnly SameSite=Strict cookies for the browser and in the body for other clients. Beside
them a session hint cookie, readable by the web app and living as long as the refresh token,
says that there is a session at all, so the app does not ask ``/api/me`` (or refresh) for
nobody and log 401s before anyone signed in; it grants nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from mediad.api.context import API, ApiContext, require_user, too_many
from mediad.api.streams import stream_cards
from mediad.api.validation import Fields
from mediad.api.views import user_view
from mediad.auth import ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH, SESSION_HINT_COOKIE
from mediad.clock import now_ms
from mediad.http.jsonio import read_object, reply
from mediad.metrics.realtime import RATELIMIT_REFUSALS
from mediad.passwords import hash_password, verify_password
from mediad.store.users import User

# Checked when the handle is unknown, so a wrong handle costs as long as a wrong password
# and the reply time does not tell which accounts exist.
_DUMMY_HASH = hash_password("mediad: no such account")


def setup_sessions(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/me", me)


def _secure(request: web.Request, api: ApiContext) -> bool:
    return request.secure or api.config.auth.secure_cookies


async def _signed_in(request: web.Request, api: ApiContext, user: User) -> web.Response:
    async with api.store.transaction():
        refresh_token = await api.store.refresh_tokens.issue(
            user.id, now_ms(), api.tokens.refresh_ttl_sec * 1000, user.token_generation)
    access = api.tokens.issue_access(user)
    response = reply({"user": user_view(user), "accessToken": access, "tokenType": "Bearer",
                      "expiresIn": api.tokens.access_ttl_sec, "refreshToken": refresh_token})
    secure = _secure(request, api)
    response.set_cookie(ACCESS_COOKIE, access, max_age=api.tokens.access_ttl_sec, path="/",
                        httponly=True, samesite="Strict", secure=secure)
    response.set_cookie(REFRESH_COOKIE, refresh_token, max_age=api.tokens.refresh_ttl_sec,
                        path=REFRESH_COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=secure)
    response.set_cookie(SESSION_HINT_COOKIE, "1", max_age=api.tokens.refresh_ttl_sec, path="/",
                        samesite="Strict", secure=secure)
    return response


async def login(request: web.Request) -> web.Response:
    api = request.app[API]
    fields = Fields(await read_object(request), {"handle", "password"})
    fields.require("handle", "password")
    handle = fields.text("handle", min_length=1, max_length=64)
    password = fields.body.get("password")
    if not isinstance(password, str) or not 1 <= len(password) <= 1024:
        fields.errors["password"] = "must be a string of 1 to 1024 characters"
        password = ""
    fields.done()
    # Failures only are counted; an address that has not failed is not held up by the
    # guessers of the same account (login_throttle.py).
    address, account = request.remote or "unknown", handle.casefold()
    wait = api.login.wait(address, account, api.clock())
    if wait:
        RATELIMIT_REFUSALS.labels("login").inc()
        raise too_many(wait, "failed sign-in attempts")
    user = await api.store.users.get_by_handle(handle)
    # scrypt takes ~50 ms of CPU: off the event loop, so sign-ins never stall the streams.
    matches = await asyncio.to_thread(
        verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not matches:
        api.login.failed(address, account, api.clock())
        raise web.HTTPUnauthorized(reason="wrong handle or password")
    api.login.succeeded(address, account)
    return await _signed_in(request, api, user)


def _refresh_token(request: web.Request, body: dict[str, Any]) -> str | None:
    token = body.get("refreshToken", request.cookies.get(REFRESH_COOKIE))
    return token if isinstance(token, str) and 0 < len(token) <= 256 else None


async def _optional_body(request: web.Request) -> dict[str, Any]:
    return await read_object(request) if request.can_read_body else {}


async def refresh(request: web.Request) -> web.Response:
    """A used refresh token is spent: each refresh returns a new pair."""
    api = request.app[API]
    token = _refresh_token(request, await _optional_body(request))
    if token is None:
        raise web.HTTPUnauthorized(reason="no refresh token")
    async with api.store.transaction():
        user_id = await api.store.refresh_tokens.consume(token, now_ms())
    user = await api.store.users.get(user_id) if user_id is not None else None
    if user is None:
        raise web.HTTPUnauthorized(reason="the refresh token is invalid, used or expired")
    return await _signed_in(request, api, user)


async def logout(request: web.Request) -> web.Response:
    """Revokes the refresh token and clears both cookies; an access token already handed
    out lives on until it expires (``auth.access_token_ttl_sec``)."""
    api = request.app[API]
    token = _refresh_token(request, await _optional_body(request))
    if token is not None:
        async with api.store.transaction():
            await api.store.refresh_tokens.revoke(token, now_ms())
    response = web.Response(status=204, headers={"Cache-Control": "no-store"})
    response.del_cookie(ACCESS_COOKIE, path="/")
    response.del_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
    response.del_cookie(SESSION_HINT_COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    api = request.app[API]
    user = await require_user(request)
    owned = await api.store.streams.list(None if user.role == "admin" else user.id)
    streams = await stream_cards(api, owned)
    moderates = await api.store.moderators.streams_of(user.id)
    return reply({"user": user_view(user), "streams": streams, "moderates": moderates})
