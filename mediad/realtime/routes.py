"""HTTP and WebSocket routes of the real-time channels (``docs/realtime.md``).

``GET /ws/streams/{id}`` is the WebSocket. The HTTP fallback carries the same messages:
``GET /api/streams/{id}/events?cursor=N`` (poll every ``pollAfterMs``) and a POST, PUT or
DELETE for every command a socket can send.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, web

from mediad.http.app import STORE, json_error
from mediad.http.jsonio import query_int, read_object, reply
from mediad.realtime import messages as m
from mediad.realtime.chat import CommandRefused
from mediad.realtime.identity import STAFF, Identity, InvalidToken, chat_role, set_guest_cookie
from mediad.realtime.keys import CHAT, IDENTITIES, SNAPSHOTS, STREAM_HEALTH, TIPS, VIEWERS
from mediad.realtime.session import SocketSession
from mediad.realtime.tips import SIGNATURE_HEADER, WebhookRefused
from mediad.realtime.viewers import viewer_key
from mediad.store.streams import Stream

log = logging.getLogger("mediad.realtime")

POLL_LIMIT = 500
MAX_COMMAND_BYTES = 16 * 1024
MAX_WEBHOOK_BYTES = 16 * 1024


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/ws/streams/{stream}", stream_socket)
    add("GET", "/api/streams/{stream}/events", poll_events)
    add("POST", "/api/streams/{stream}/chat", send_chat)
    add("DELETE", "/api/streams/{stream}/chat/{message}", delete_message)
    add("PUT", "/api/streams/{stream}/chat-pin", pin_message)
    add("POST", "/api/streams/{stream}/chat-clear", clear_chat)
    add("PUT", "/api/streams/{stream}/slow-mode", slow_mode)
    add("POST", "/api/streams/{stream}/moderation/timeouts", timeout_chatter)
    add("PUT", "/api/streams/{stream}/moderation/bans/{target}", ban_chatter)
    add("DELETE", "/api/streams/{stream}/moderation/bans/{target}", unban_chatter)
    add("GET", "/api/streams/{stream}/moderation/bans", list_bans)
    add("GET", "/api/streams/{stream}/moderation/actions", list_actions)
    add("GET", "/api/streams/{stream}/health", health_history)
    add("POST", "/api/webhooks/tips", tip_webhook)


def _json(body: Any, status: int = 200, identity: Identity | None = None) -> web.Response:
    response = reply(body, status)
    if identity is not None:
        set_guest_cookie(response, identity)
    return response


async def _stream_and_identity(request: web.Request) -> tuple[Stream, Identity]:
    stream = await request.app[STORE].streams.get(request.match_info["stream"])
    if stream is None:
        raise web.HTTPNotFound(reason="no such stream")
    try:
        identity = await request.app[IDENTITIES].identify(request)
    except InvalidToken as exc:
        raise web.HTTPUnauthorized(reason=str(exc)) from None
    return stream, identity


def _cursor(request: web.Request) -> int | None:
    raw = request.query.get("cursor")
    if raw is None or raw == "":
        return None
    return query_int(request, "cursor", 0, 0, 10**18)


# -- WebSocket ---------------------------------------------------------------------------

async def stream_socket(request: web.Request) -> web.StreamResponse:
    stream, identity = await _stream_and_identity(request)
    cursor = _cursor(request)
    ws = web.WebSocketResponse(protocols=(m.MSGPACK,), heartbeat=30.0,
                               max_msg_size=MAX_COMMAND_BYTES, compress=False)
    if not ws.can_prepare(request).ok:
        return json_error(400, "expected a WebSocket upgrade")
    set_guest_cookie(ws, identity)
    await ws.prepare(request)
    try:
        await SocketSession(request, ws, stream, identity).run(cursor)
    except Exception:
        # The upgrade is sent: an HTTP error page would corrupt the socket. Close it instead.
        log.exception("websocket session failed", extra={"fields": {"stream": stream.id}})
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
    return ws


# -- polling -----------------------------------------------------------------------------

async def poll_events(request: web.Request) -> web.Response:
    stream, identity = await _stream_and_identity(request)
    cursor = _cursor(request)
    store, viewers, snapshots = request.app[STORE], request.app[VIEWERS], request.app[SNAPSHOTS]
    viewers.seen(stream.id, viewer_key(identity.browser, request.remote, ""))
    latest = await store.events.latest_seq(stream.id)
    events: list[m.Message] = []
    more = False
    if cursor is not None and cursor + 1 < await store.events.oldest_seq(stream.id):
        events.append({"type": m.RESYNC, "reason": "cursor too old"})
        cursor = None
    if cursor is None:
        events += [await snapshots.hello(stream.id, identity, latest),
                   await snapshots.history(stream.id)]
        next_cursor = latest
    else:
        rows = await store.events.since(stream.id, cursor, POLL_LIMIT)
        events += [json.loads(body) for _, body in rows]
        next_cursor = rows[-1][0] if rows else max(cursor, 0)
        more = len(rows) == POLL_LIMIT
    health = request.app[STREAM_HEALTH].latest(stream.id)
    if health is not None:
        events.append(health)
    events.append(viewers.message(stream.id))
    return _json({"cursor": next_cursor, "events": events, "more": more,
                  "pollAfterMs": 0 if more else 4000}, identity=identity)


# -- commands over HTTP ------------------------------------------------------------------

async def _body(request: web.Request) -> dict[str, Any]:
    return await read_object(request, MAX_COMMAND_BYTES)


async def _command(request: web.Request, command: m.Message, status: int = 200
                   ) -> web.Response:
    stream, identity = await _stream_and_identity(request)
    try:
        result = await request.app[CHAT].execute(identity, stream.id, command)
    except CommandRefused as exc:
        response = _json({"error": exc.message, "code": exc.code, **exc.extra}, exc.status,
                         identity)
        wait = exc.extra.get("retryAfterMs")
        if isinstance(wait, int):
            response.headers["Retry-After"] = str(max(1, -(-wait // 1000)))
        return response
    return _json({"command": command["type"], **result}, status, identity)


async def send_chat(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _command(request, {"type": "chat.send", "text": body.get("text")}, 201)


async def delete_message(request: web.Request) -> web.Response:
    return await _command(request, {"type": "chat.delete",
                                    "messageId": request.match_info["message"]})


async def pin_message(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _command(request, {"type": "chat.pin", "messageId": body.get("messageId")})


async def clear_chat(request: web.Request) -> web.Response:
    return await _command(request, {"type": "chat.clear"})


async def slow_mode(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _command(request, {"type": "moderation.slow_mode",
                                    "seconds": body.get("seconds")})


async def timeout_chatter(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _command(request, {"type": "moderation.timeout", "target": body.get("target"),
                                    "seconds": body.get("seconds")})


async def ban_chatter(request: web.Request) -> web.Response:
    return await _command(request, {"type": "moderation.ban",
                                    "target": request.match_info["target"]})


async def unban_chatter(request: web.Request) -> web.Response:
    return await _command(request, {"type": "moderation.unban",
                                    "target": request.match_info["target"]})


# -- staff views -------------------------------------------------------------------------

async def _staff(request: web.Request) -> Stream:
    stream, identity = await _stream_and_identity(request)
    if identity.guest:
        raise web.HTTPUnauthorized(reason="sign in first")
    if await chat_role(request.app[STORE], stream, identity) not in STAFF:
        raise web.HTTPForbidden(reason="only the creator and the stream's moderators")
    return stream


async def list_bans(request: web.Request) -> web.Response:
    stream = await _staff(request)
    banned = await request.app[STORE].chat.banned(stream.id)
    return _json({"bans": [{"id": b.subject, "handle": b.handle} for b in banned]})


async def list_actions(request: web.Request) -> web.Response:
    stream = await _staff(request)
    actions = await request.app[STORE].chat.actions(stream.id)
    return _json({"actions": actions})


async def health_history(request: web.Request) -> web.Response:
    stream = await _staff(request)
    since = int(time.time() * 1000) - query_int(request, "minutes", 10, 1, 24 * 60) * 60_000
    rows = await request.app[STORE].health.since(stream.id, since)
    samples = [{"at": m_at, "bitrateKbps": kbps, "fps": fps, "dropRate": drops,
                "viewers": viewers} for m_at, kbps, fps, drops, viewers in rows]
    return _json({"samples": samples, "intervalSec": request.app[STREAM_HEALTH].interval_sec})


# -- tips --------------------------------------------------------------------------------

async def tip_webhook(request: web.Request) -> web.Response:
    tips = request.app[TIPS]
    if not tips.enabled:
        return json_error(404, "the tips webhook is not configured (tips.webhook_secret)")
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        return json_error(413, "body too large")
    body = await request.content.read(MAX_WEBHOOK_BYTES + 1)
    if len(body) > MAX_WEBHOOK_BYTES:
        return json_error(413, "body too large")
    try:
        received = await tips.receive(request.headers.get(SIGNATURE_HEADER, ""), body)
    except WebhookRefused as exc:
        return json_error(exc.status, exc.message)
    if received.seq is None:
        return _json({"id": received.tip_id, "duplicate": True})
    return _json({"id": received.tip_id, "duplicate": False, "seq": received.seq}, 201)
