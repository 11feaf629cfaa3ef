"""One browser tab's WebSocket: join (history, or a resume from a cursor), then commands.

Only this task reads the socket. Everything it is sent goes through its ``Outbox``: the
stream's broadcasts, and the replies to its own commands.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import Any, cast

import msgpack
from aiohttp import WSMsgType, web

from mediad import bounded_json
from mediad.http.app import CONFIG, STORE, track_websocket
from mediad.metrics.realtime import WEBSOCKET_CONNECTIONS
from mediad.ratelimit import RateLimiter
from mediad.realtime import messages as m
from mediad.realtime.chat import CommandRefused
from mediad.realtime.hub import Subscriber
from mediad.realtime.identity import Identity
from mediad.realtime.keys import CHAT, HUB, IDENTITIES, SNAPSHOTS, STREAM_HEALTH, VIEWERS
from mediad.realtime.outbox import Outbox
from mediad.realtime.viewers import viewer_key
from mediad.store.streams import Stream

log = logging.getLogger("mediad.realtime")

REPLAY_LIMIT = 1000
"""A resume further behind than this gets a fresh history instead (``resync``)."""
MAX_BAD_COMMANDS = 20


class SocketSession:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, stream: Stream,
                 identity: Identity) -> None:
        app = request.app
        self._store = app[STORE]
        self._hub = app[HUB]
        self._viewers = app[VIEWERS]
        self._health = app[STREAM_HEALTH]
        self._chat = app[CHAT]
        self._snapshots = app[SNAPSHOTS]
        self._identities = app[IDENTITIES]
        self.request = request
        self.ws = ws
        self.stream = stream
        self.identity = identity
        self.binary = ws.ws_protocol == m.MSGPACK
        config = app[CONFIG].realtime
        # uvloop's transports do not subclass asyncio.Transport; they are one all the same.
        transport = cast(asyncio.Transport, request.transport)
        assert transport is not None
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A fixed kernel buffer instead of autotuning (which grows to megabytes): the
            # socket's memory stays bounded, and a client that stops reading is noticed.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, config.outbound_buffer_bytes)
        self.outbox = Outbox(transport, max_frames=config.outbound_queue_frames,
                             max_buffer=config.outbound_buffer_bytes, on_close=self._cut_off)
        self.subscriber = Subscriber(self.outbox, self.binary)
        # A flood guard; chat has its own limits.
        self.commands = RateLimiter(100, 2.0, limit="websocket_commands")
        self.bad_commands = 0
        self.viewer_key = viewer_key(identity.browser, request.remote, "")

    def _cut_off(self, reason: str) -> None:
        self._hub.leave(self.stream.id, self.subscriber)  # at once, not at the close
        log.info("websocket cut off", extra={"fields": {
            "stream": self.stream.id, "peer": self.request.remote, "reason": reason}})

    async def run(self, cursor: int | None) -> None:
        track_websocket(self.request.app, self.ws)
        writer = asyncio.get_running_loop().create_task(self.outbox.run())
        self._viewers.socket_opened(self.stream.id, self.viewer_key)
        WEBSOCKET_CONNECTIONS.inc()
        try:
            await self._join(cursor)
            async for message in self.ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._receive(message.data)
                if self.outbox.closed:
                    break
        finally:
            self._hub.leave(self.stream.id, self.subscriber)
            self._viewers.socket_closed(self.stream.id, self.viewer_key)
            WEBSOCKET_CONNECTIONS.dec()
            self.outbox.stop()
            writer.cancel()

    async def _join(self, cursor: int | None) -> None:
        sent_up_to = await self._hub.join(self.stream.id, self.subscriber)
        self.subscriber.send(await self._snapshots.hello(self.stream.id, self.identity,
                                                         sent_up_to))
        replay = None
        if cursor is not None and cursor < sent_up_to:
            oldest = await self._store.events.oldest_seq(self.stream.id)
            if cursor + 1 >= oldest:
                rows = await self._store.events.since(self.stream.id, cursor, REPLAY_LIMIT)
                if len(rows) < REPLAY_LIMIT:
                    replay = [json.loads(body) for _, body in rows]
            if replay is None:
                self.subscriber.send({"type": m.RESYNC, "reason": "cursor too old"})
        elif cursor is not None:
            replay = []
        if replay is None:
            self.subscriber.send(await self._snapshots.history(self.stream.id))
        elif replay:
            self.subscriber.send(replay)
            sent_up_to = max(sent_up_to, replay[-1]["seq"])
        health = self._health.latest(self.stream.id)
        if health is not None:
            self.subscriber.send(health)
        self.subscriber.release(sent_up_to)

    async def _receive(self, data: str | bytes) -> None:
        """A text frame is JSON, a binary one msgpack."""
        try:
            command: Any = (bounded_json.unpack_msgpack(data) if isinstance(data, bytes)
                            else bounded_json.loads(data))
        except bounded_json.TooDeep as exc:
            await self._bad(m.error("bad_request", f"the command is {exc}", None))
            return
        except (ValueError, msgpack.UnpackException):
            command = None
        ref = command.get("ref") if isinstance(command, dict) else None
        if not isinstance(ref, str | int | None) or (isinstance(ref, str) and len(ref) > 64):
            ref = None
        if not isinstance(command, dict) or not isinstance(command.get("type"), str):
            await self._bad(m.error("bad_request", "send a JSON object with a 'type'", ref))
            return
        if self.commands.acquire("socket", time.monotonic()) > 0:
            self.subscriber.send(m.error("rate_limited", "too many commands", ref))
            return
        kind = command["type"]
        if kind == "ping":
            self.subscriber.send({"type": "pong", "ref": ref})
        elif kind == "auth":
            await self._auth(command, ref)
        else:
            try:
                result = await self._chat.execute(self.identity, self.stream.id, command)
            except CommandRefused as exc:
                self.subscriber.send(m.error(exc.code, exc.message, ref, status=exc.status,
                                             **exc.extra))
                return
            self.subscriber.send({"type": m.ACK, "ref": ref, "command": kind, **result})

    async def _bad(self, reply: m.Message) -> None:
        self.bad_commands += 1
        self.subscriber.send(reply)
        if self.bad_commands > MAX_BAD_COMMANDS:
            await self.ws.close(code=1008, message=b"too many malformed commands")

    async def _auth(self, command: m.Message, ref: object) -> None:
        """Sign in on an open socket (a player on another origin cannot send cookies)."""
        token = command.get("token")
        found = None
        if isinstance(token, str) and len(token) < 4096:
            found = await self._identities.sign_in(token, self.identity.ip,
                                                   self.identity.browser)
        if found is None:
            self.subscriber.send(m.error("unauthorized", "the access token is invalid or expired",
                                         ref))
            return
        self.identity = found
        cursor = self._hub.last_seq(self.stream.id)
        if cursor is None:
            return  # cut off while the token was checked: the socket is closing
        self.subscriber.send({**await self._snapshots.hello(self.stream.id, found, cursor),
                              "ref": ref})
