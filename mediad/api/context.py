"""What every API handler shares, and who is asking: the caller and their rights."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from mediad.auth import Tokens, bearer_token, user_for_token
from mediad.config import Config
from mediad.login_throttle import LoginThrottle
from mediad.ratelimit import RateLimiter
from mediad.realtime.recorder import Recorder
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.store import Store
from mediad.store.streams import Stream
from mediad.store.users import User
from mediad.streams import StreamRegistry
from mediad.urls import Ports


@dataclass
class ApiContext:
    config: Config
    store: Store
    registry: StreamRegistry
    tokens: Tokens
    viewers: ViewerCounts
    """Viewer totals for the stream cards."""
    recorder: Recorder
    """Settings changes go out as durable real-time messages."""
    ports: Callable[[], Ports]
    """The bound ports, known once every listener is up (ingest URLs are built from them)."""
    pictures: Callable[[str], bool]
    """Whether a stream's live thumbnail has a picture yet (``thumbnails.has_picture``)."""
    clock: Callable[[], float] = time.monotonic
    writes: RateLimiter = field(init=False)
    metrics: RateLimiter = field(init=False)
    login: LoginThrottle = field(init=False)
    """Failed sign-ins, per address, per account and per pair (``login_throttle.py``)."""

    def __post_init__(self) -> None:
        api, auth = self.config.api, self.config.auth
        self.login = LoginThrottle(auth.login_attempts_per_minute_per_ip,
                                   auth.login_attempts_per_hour_per_account)
        self.writes = RateLimiter(api.writes_per_minute_per_user, 60.0, limit="api_write")
        self.metrics = RateLimiter(api.metrics_per_minute_per_ip, 60.0,
                                   limit="player_reports")


API = web.AppKey("api", ApiContext)


def too_many(wait_sec: float, what: str) -> web.HTTPTooManyRequests:
    seconds = max(1, int(-(-wait_sec // 1)))
    return web.HTTPTooManyRequests(
        reason=f"too many {what}: try again in {seconds} s",
        headers={"Retry-After": str(seconds)})


async def current_user(request: web.Request) -> User | None:
    """The signed-in caller, None for an anonymous one; 401 for a bad or expired token
    (a client that sent one expects to be someone, and should refresh, not go on as a guest)."""
    token = bearer_token(request)
    if not token:
        return None
    api = request.app[API]
    user = await user_for_token(token, api.tokens, api.store.users)
    if user is None:
        raise web.HTTPUnauthorized(reason="the access token is invalid or expired",
                                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return user


async def require_user(request: web.Request) -> User:
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(reason="sign in first", headers={"WWW-Authenticate": "Bearer"})
    return user


async def find_stream(request: web.Request) -> Stream:
    stream = await request.app[API].store.streams.get(request.match_info["stream"])
    if stream is None:
        raise web.HTTPNotFound(reason="no such stream")
    return stream


def may_manage(user: User, stream: Stream) -> bool:
    """Keys, settings and the lifecycle: the stream's creator or an admin, nobody else."""
    return user.role == "admin" or user.id == stream.owner_id


async def managed_stream(request: web.Request, *, write: bool = False) -> tuple[Stream, User]:
    """The stream of the URL, if the caller may manage it (401 anonymous, 403 others, 404
    none); ``write`` also spends one of the caller's change tokens (429 when out)."""
    stream = await find_stream(request)
    user = await require_user(request)
    if not may_manage(user, stream):
        raise web.HTTPForbidden(reason="only the stream's creator or an admin may do this")
    if write:
        charge_write(request, user)
    return stream, user


def charge_write(request: web.Request, user: User) -> None:
    api = request.app[API]
    wait = api.writes.acquire(f"u:{user.id}", api.clock())
    if wait:
        raise too_many(wait, "changes")
