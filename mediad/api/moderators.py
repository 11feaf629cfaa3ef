"""A stream's moderators, chosen by its creator: they moderate its chat and nothing else."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import API, managed_stream
from mediad.api.views import user_view
from mediad.clock import now_ms
from mediad.http.jsonio import reply
from mediad.store.users import User


def setup_moderators(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/api/streams/{stream}/moderators", list_moderators)
    add("PUT", "/api/streams/{stream}/moderators/{handle}", add_moderator)
    add("DELETE", "/api/streams/{stream}/moderators/{handle}", remove_moderator)


async def _named_user(request: web.Request) -> User:
    handle = request.match_info["handle"]
    user = await request.app[API].store.users.get_by_handle(handle) if len(handle) <= 64 else None
    if user is None:
        raise web.HTTPNotFound(reason="no account with that handle")
    return user


async def list_moderators(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request)
    users = await api.store.users.get_many(set(await api.store.moderators.for_stream(stream.id)))
    return reply({"moderators": [user_view(u) for u in sorted(users.values(),
                                                              key=lambda u: u.handle.lower())]})


async def add_moderator(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    user = await _named_user(request)
    if user.id == stream.owner_id:
        raise web.HTTPConflict(reason="the creator already moderates their own stream")
    async with api.store.transaction():
        await api.store.moderators.add(stream.id, user.id, now_ms())
    return reply(user_view(user))


async def remove_moderator(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    user = await _named_user(request)
    async with api.store.transaction():
        removed = await api.store.moderators.remove(stream.id, user.id)
    if not removed:
        raise web.HTTPNotFound(reason="that account does not moderate this stream")
    return web.Response(status=204)
