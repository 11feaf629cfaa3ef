"""Redis pub/sub as the bus, so several mediad processes behind one load balancer share a
chat. One pattern subscription per process (``PREFIX:stream:*``); each message names the
process that sent it, which skips its own echo (it delivered locally already).

Redis is for fan-out only: what must not be lost is in the shared database first, and a
process that lost its subscription for a while fills the gap from the event log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from mediad.realtime.bus import Sink
from mediad.realtime.messages import Message, encode_json

log = logging.getLogger("mediad.realtime")

_RETRY_MAX_SEC = 5.0


class RedisBus:
    shared = True

    def __init__(self, url: str, prefix: str) -> None:
        self.instance_id = secrets.token_hex(4)
        self._url = url
        self._prefix = prefix
        self._client: redis.Redis | None = None
        self._sink: Sink | None = None
        self._reconnected: Callable[[], None] = lambda: None
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def _channel(self, stream_id: str) -> str:
        return f"{self._prefix}:stream:{stream_id}"

    async def start(self, sink: Sink, reconnected: Callable[[], None]) -> None:
        self._sink = sink
        self._reconnected = reconnected
        self._client = redis.Redis.from_url(self._url, socket_connect_timeout=5,
                                            health_check_interval=15)
        await self._client.ping()  # type: ignore[misc]  # a wrong URL fails the start
        self._task = asyncio.get_running_loop().create_task(self._listen())
        async with asyncio.timeout(10):
            await self._subscribed.wait()

    async def publish(self, stream_id: str, message: Message) -> None:
        if self._sink is not None:
            self._sink(stream_id, message)
        if self._client is None:
            return
        try:
            await self._client.publish(self._channel(stream_id),
                                       encode_json({"o": self.instance_id, "m": message}))
        except RedisError as exc:
            # Durable events are in the database already; other processes fill the gap.
            log.warning("redis publish failed", extra={"fields": {"error": str(exc)}})

    async def _listen(self) -> None:
        assert self._client is not None
        pattern = f"{self._prefix}:stream:*"
        skip = len(pattern) - 1
        delay = 0.2
        first = True
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern)
                self._subscribed.set()
                if not first:
                    log.info("redis subscription restored")
                    self._reconnected()
                first, delay = False, 0.2
                while True:
                    item = await pubsub.get_message(timeout=30.0)
                    if item is None or item.get("type") != "pmessage":
                        continue
                    self._receive(item["channel"], item["data"], skip)
            except asyncio.CancelledError:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            except (RedisError, OSError) as exc:
                log.warning("redis subscription lost", extra={"fields": {"error": str(exc)}})
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(delay)
                delay = min(_RETRY_MAX_SEC, delay * 2)

    def _receive(self, channel: bytes, data: bytes, skip: int) -> None:
        try:
            envelope = json.loads(data)
            if envelope["o"] == self.instance_id:
                return
            message = envelope["m"]
            stream_id = channel.decode()[skip:]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("unreadable message on the redis bus")
            return
        if self._sink is not None and isinstance(message, dict):
            self._sink(stream_id, message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._sink = None
