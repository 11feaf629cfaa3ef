"""Sign-in tokens (JWT, HS256) and the signed guest cookie.

The secret comes from ``auth.jwt_secret`` or is generated once and kept in
``DATA_DIR/jwt.secret`` (mode 0600), so tokens survive a restart. Guest cookies are signed
with a key derived from the same secret: a guest keeps one handle for the cookie's life and
cannot pick another chatter's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from aiohttp import web

from mediad.config import Config
from mediad.store.users import Role, User, UserRepository

ACCESS_COOKIE = "mediad_access"
REFRESH_COOKIE = "mediad_refresh"
REFRESH_COOKIE_PATH = "/api/auth"
SESSION_HINT_COOKIE = "mediad_session"
"""Readable by the web app, holds no secret: that a sign-in exists to ask about or refresh
(the two real cookies are HttpOnly). Without it the app asks nothing: no 401s before sign-in."""
GUEST_COOKIE = "mediad_guest"
GUEST_COOKIE_MAX_AGE = 365 * 86400
_ALGORITHM = "HS256"


def load_secret(config: Config) -> bytes:
    if config.auth.jwt_secret:
        return config.auth.jwt_secret.encode()
    path = Path(config.storage.data_dir) / "jwt.secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    return secret


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    handle: str
    role: Role
    token_generation: int
    """The account's generation at issue; a token of an older one is signed out."""


class Tokens:
    def __init__(self, secret: bytes, access_ttl_sec: int, refresh_ttl_sec: int) -> None:
        self._secret = secret
        self.access_ttl_sec = access_ttl_sec
        self.refresh_ttl_sec = refresh_ttl_sec
        self._guest_key = hmac.new(secret, b"mediad guest cookie", hashlib.sha256).digest()

    @classmethod
    def from_config(cls, config: Config) -> Tokens:
        return cls(load_secret(config), config.auth.access_token_ttl_sec,
                   config.auth.refresh_token_ttl_sec)

    def issue_access(self, user: User, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        return jwt.encode({"sub": str(user.id), "handle": user.handle, "role": user.role,
                           "gen": user.token_generation, "typ": "access", "iat": issued,
                           "exp": issued + self.access_ttl_sec},
                          self._secret, algorithm=_ALGORITHM)

    def verify_access(self, token: str) -> AccessClaims | None:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM],
                                options={"require": ["sub", "exp", "typ"]})
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != "access" or claims.get("role") not in ("admin", "creator",
                                                                       "viewer"):
            return None
        generation = claims.get("gen", 0)  # tokens issued before generations were generation 0
        if isinstance(generation, bool) or not isinstance(generation, int):
            return None
        try:
            return AccessClaims(int(claims["sub"]), str(claims["handle"]), claims["role"],
                                generation)
        except (KeyError, ValueError):
            return None

    def _guest_signature(self, guest_id: str) -> str:
        digest = hmac.new(self._guest_key, guest_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def new_guest_cookie(self) -> tuple[str, str]:
        """A fresh guest id and the cookie value that proves it."""
        guest_id = secrets.token_hex(6)
        return guest_id, f"{guest_id}.{self._guest_signature(guest_id)}"

    def verify_guest_cookie(self, value: str) -> str | None:
        guest_id, _, signature = value.partition(".")
        if len(guest_id) != 12 or not signature:
            return None
        if not hmac.compare_digest(signature.encode(), self._guest_signature(guest_id).encode()):
            return None
        return guest_id


async def user_for_token(token: str, tokens: Tokens, users: UserRepository) -> User | None:
    """The account a valid access token names, None for a bad, expired or orphaned one, or
    one signed out (issued before the account's password changed).

    The generation is compared on the account row this reads anyway: no round trip more
    per request, and a change made by another process (``mediad user passwd`` while the
    daemon runs) counts from its commit on, since every request reads the row afresh."""
    claims = tokens.verify_access(token)
    if claims is None:
        return None
    user = await users.get(claims.user_id)
    if user is None or user.token_generation != claims.token_generation:
        return None
    return user


def bearer_token(request: web.Request) -> str | None:
    """The access token of a request: ``Authorization: Bearer``, else the HttpOnly cookie."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.cookies.get(ACCESS_COOKIE)
