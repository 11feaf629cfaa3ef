"""Streams: public discovery, the creator's create/update/delete, and the lifecycle."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import (
    API,
    ApiContext,
    charge_write,
    find_stream,
    managed_stream,
    require_user,
)
from mediad.api.validation import ABSENT, Fields
from mediad.api.views import stream_card, stream_detail
from mediad.clock import now_ms
from mediad.http.jsonio import query_int, read_object, reply
from mediad.lifecycle import TransitionRefused
from mediad.store.keys import KEY_KINDS
from mediad.store.streams import Stream

MAX_TITLE = 140


def setup_streams(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/api/streams", discover)
    add("POST", "/api/streams", create_stream)
    add("GET", "/api/streams/{stream}", get_stream)
    add("PATCH", "/api/streams/{stream}", update_stream)
    add("DELETE", "/api/streams/{stream}", delete_stream)
    add("PUT", "/api/streams/{stream}/state", set_state)


async def stream_cards(api: ApiContext, streams: list[Stream]) -> list[dict[str, object]]:
    """Discovery cards, their creators read in one query."""
    owners = await api.store.users.get_many({s.owner_id for s in streams})
    return [stream_card(s, owners.get(s.owner_id), api.viewers.total(s.id), api.pictures(s.id))
            for s in streams]


async def _detail(api: ApiContext, stream: Stream) -> dict[str, object]:
    owner = await api.store.users.get(stream.owner_id)
    viewers = api.viewers.total(stream.id)
    return stream_detail(stream, owner, viewers, api.pictures(stream.id), api.config,
                         api.ports())


async def discover(request: web.Request) -> web.Response:
    """Live first (most recently started first), then scheduled (soonest first), then
    recently ended; previews without a schedule stay private."""
    api = request.app[API]
    limit = query_int(request, "limit", 50, 1, 100)
    ended_since = now_ms() - api.config.api.discovery_ended_hours * 3_600_000
    streams = await api.store.streams.discover(ended_since=ended_since, limit=limit)
    return reply({"streams": await stream_cards(api, streams)})


def _stream_fields(fields: Fields, *, creating: bool) -> dict[str, object]:
    return fields.changes(
        title=fields.text("title", min_length=1, max_length=MAX_TITLE,
                          default="" if creating else ABSENT),
        poster_url=fields.url("posterUrl"),
        start_at=fields.timestamp("startAt"))


async def create_stream(request: web.Request) -> web.Response:
    api = request.app[API]
    user = await require_user(request)
    if user.role not in ("admin", "creator"):
        raise web.HTTPForbidden(reason="only creators and admins may create streams")
    charge_write(request, user)
    fields = Fields(await read_object(request), {"title", "posterUrl", "startAt"})
    fields.require("title")
    changes = _stream_fields(fields, creating=True)
    async with api.store.transaction():
        stream = await api.store.streams.create(user.id, str(changes.pop("title")),
                                                dvr_window_sec=api.config.hls.dvr_window_sec)
        for kind in KEY_KINDS:
            await api.store.keys.issue(stream.id, kind)
        if changes:
            stream = await api.store.streams.update(stream.id, **changes) or stream
    response = reply(await _detail(api, stream), 201)
    response.headers["Location"] = f"/api/streams/{stream.id}"
    return response


async def get_stream(request: web.Request) -> web.Response:
    api = request.app[API]
    return reply(await _detail(api, await find_stream(request)))


async def update_stream(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    fields = Fields(await read_object(request), {"title", "posterUrl", "startAt"})
    changes = _stream_fields(fields, creating=False)
    if changes:
        async with api.store.transaction():
            stream = await api.store.streams.update(stream.id, **changes) or stream
    return reply(await _detail(api, stream))


async def delete_stream(request: web.Request) -> web.Response:
    """Drops the publisher, ends the playlist for its viewers, and forgets everything."""
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    await api.registry.forget(stream.id)
    async with api.store.transaction():
        await api.store.streams.delete(stream.id)
    return web.Response(status=204)


async def set_state(request: web.Request) -> web.Response:
    """``{"state": "live"}`` (only while a publisher is connected) or ``{"state": "ended"}``
    (closes the playlist with EXT-X-ENDLIST and disconnects the publisher)."""
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    fields = Fields(await read_object(request), {"state"})
    wanted = fields.body.get("state")
    if wanted not in ("live", "ended"):
        fields.errors["state"] = ('must be "live" or "ended" (a broadcast starts in "preview"'
                                  " when a publisher connects)")
    fields.done()
    try:
        if wanted == "live":
            await api.registry.go_live(stream.id)
        else:
            await api.registry.end(stream.id)
    except TransitionRefused as exc:
        raise web.HTTPConflict(reason=str(exc)) from None
    current = await api.store.streams.get(stream.id)
    return reply(await _detail(api, current or stream))
