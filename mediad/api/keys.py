"""Stream keys in the control room: masked by default, revealed or rotated on request,
each reveal and rotation logged with who did it and from where."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import API, managed_stream
from mediad.api.views import keys_view, revealed_key
from mediad.clock import iso_utc, now_ms
from mediad.http.jsonio import reply
from mediad.store.audit import KeyAction
from mediad.store.keys import KEY_KINDS, KeyKind, StreamKey
from mediad.store.streams import Stream
from mediad.store.users import User


def setup_keys(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/api/streams/{stream}/keys", list_keys)
    add("POST", "/api/streams/{stream}/keys/{kind}/reveal", reveal_key)
    add("POST", "/api/streams/{stream}/keys/{kind}/rotate", rotate_key)
    add("GET", "/api/streams/{stream}/keys/audit", key_audit)


def _kind(request: web.Request) -> KeyKind:
    for kind in KEY_KINDS:
        if request.match_info["kind"] == kind:
            return kind
    raise web.HTTPNotFound(reason="a key is 'primary' or 'backup'")


async def list_keys(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request)
    keys = await api.store.keys.for_stream(stream.id)
    return reply(keys_view(stream, keys, api.config, api.ports()))


async def _logged(request: web.Request, stream: Stream, user: User, kind: KeyKind,
                  action: KeyAction) -> StreamKey:
    """Rotate or read the key and log it in one transaction: no reveal goes unrecorded."""
    store = request.app[API].store
    async with store.transaction():
        if action == "rotate":
            key: StreamKey | None = await store.keys.issue(stream.id, kind)
        else:
            key = (await store.keys.for_stream(stream.id)).get(kind)
        if key is None:
            raise web.HTTPNotFound(reason=f"this stream has no {kind} key")
        await store.key_events.add(stream.id, kind, action, user.id, user.handle,
                                   request.remote or "unknown", now_ms())
    return key


async def reveal_key(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, user = await managed_stream(request, write=True)
    key = await _logged(request, stream, user, _kind(request), "reveal")
    return reply(revealed_key(stream, key, api.config, api.ports()))


async def rotate_key(request: web.Request) -> web.Response:
    """The old key stops working at once; a publisher connected with it is dropped."""
    api = request.app[API]
    stream, user = await managed_stream(request, write=True)
    kind = _kind(request)
    key = await _logged(request, stream, user, kind, "rotate")
    dropped = api.registry.disconnect_key(stream.id, kind, f"the {kind} key was rotated")
    return reply({**revealed_key(stream, key, api.config, api.ports()),
                  "publisherDisconnected": dropped})


async def key_audit(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request)
    events = await api.store.key_events.for_stream(stream.id)
    return reply({"events": [{**e, "at": iso_utc(e["at"])} for e in events]})
