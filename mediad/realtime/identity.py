"""Who is talking: an account (from its access token) or a guest (from the signed cookie),
and what they are in one stream's chat."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from mediad.auth import (
    GUEST_COOKIE,
    GUEST_COOKIE_MAX_AGE,
    Tokens,
    bearer_token,
    user_for_token,
)
from mediad.store import Store
from mediad.store.streams import Stream

ChatRole = Literal["creator", "admin", "moderator", "viewer", "guest"]
STAFF: frozenset[ChatRole] = frozenset({"creator", "admin", "moderator"})


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    """``u:<user id>`` or ``g:<guest id>``: what bans, timeouts and slow mode key on."""
    handle: str
    ip: str
    browser: str
    """The guest cookie's id, which every browser gets (signed in or not): one viewer."""
    user_id: int | None = None
    admin: bool = False
    account_created_at: int | None = None
    new_guest_cookie: str | None = None
    """Set on the response: this browser had no valid guest cookie yet."""

    @property
    def guest(self) -> bool:
        return self.user_id is None


class InvalidToken(Exception):
    """A token was presented and is not valid (expired, forged): 401, never a guest."""


def guest_handle(guest_id: str) -> str:
    return f"guest-{guest_id[:6]}"


class Identities:
    """Who a request or a socket's sign-in is, from the guest cookie and the access token."""

    def __init__(self, tokens: Tokens, store: Store) -> None:
        self._tokens = tokens
        self._store = store

    def browser(self, request: web.Request) -> str | None:
        """The verified guest cookie id of the browser making ``request``, if it has one."""
        cookie = request.cookies.get(GUEST_COOKIE, "")
        return self._tokens.verify_guest_cookie(cookie) if cookie else None

    async def identify(self, request: web.Request) -> Identity:
        ip = request.remote or "unknown"
        guest_id = self.browser(request)
        new_cookie = None
        if guest_id is None:
            guest_id, new_cookie = self._tokens.new_guest_cookie()
        token = bearer_token(request)
        if token:
            identity = await self.sign_in(token, ip, guest_id)
            if identity is None:
                raise InvalidToken("the access token is invalid or expired")
            return dataclasses.replace(identity, new_guest_cookie=new_cookie)
        return Identity(f"g:{guest_id}", guest_handle(guest_id), ip, guest_id,
                        new_guest_cookie=new_cookie)

    async def sign_in(self, token: str, ip: str, browser: str) -> Identity | None:
        """The account of an access token, as an identity; None when the token is not valid."""
        user = await user_for_token(token, self._tokens, self._store.users)
        if user is None:
            return None
        return Identity(f"u:{user.id}", user.handle, ip, browser, user.id,
                        user.role == "admin", user.created_at)


def set_guest_cookie(response: web.StreamResponse, identity: Identity) -> None:
    if identity.new_guest_cookie is not None:
        response.set_cookie(GUEST_COOKIE, identity.new_guest_cookie, max_age=GUEST_COOKIE_MAX_AGE,
                            httponly=True, samesite="Lax", path="/")


async def chat_role(store: Store, stream: Stream, identity: Identity) -> ChatRole:
    if identity.user_id is None:
        return "guest"
    if identity.user_id == stream.owner_id:
        return "creator"
    if identity.admin:
        return "admin"
    if await store.moderators.is_moderator(stream.id, identity.user_id):
        return "moderator"
    return "viewer"
