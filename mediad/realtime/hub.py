"""Delivery of a stream's messages to this process's WebSockets.

Per stream, durable messages are delivered strictly in ``seq`` order: one that arrives
early (another process published it first) waits for the missing ones, which are read
from the event log if the bus does not bring them soon. Messages ready together are
batched into one frame per flush interval (longer for a large audience, so that one
stream causes at most ``max_frames_per_sec`` socket writes) and encoded once per format,
then written to every socket's outbox: the cost per socket is one ``transport.write``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass

from mediad.realtime.messages import (
    OP_BINARY,
    OP_TEXT,
    Message,
    encode_json,
    encode_msgpack,
    ws_frame,
)
from mediad.realtime.outbox import Outbox
from mediad.store import Store

log = logging.getLogger("mediad.realtime")

GAP_WAIT_SEC = 0.3
"""How long an early message waits for the bus to bring the ones before it."""
WRITE_CHUNK = 256
"""Sockets written to before the loop gets a turn."""
HOLD_LIMIT = 2000
"""Messages held for a socket while its resume replays from the log."""


class Subscriber:
    """One WebSocket's place in a stream channel."""

    def __init__(self, outbox: Outbox, binary: bool) -> None:
        self.outbox = outbox
        self.binary = binary
        self._held: list[Message] | None = None
        self._floor = 0
        """Durable messages up to this seq reached the client another way (history or
        replay at join); a batch already pending then must not repeat them."""

    def send(self, message: Message | list[Message]) -> None:
        if self.binary:
            self.outbox.send(ws_frame(encode_msgpack(message), OP_BINARY))
        else:
            self.outbox.send(ws_frame(encode_json(message), OP_TEXT))

    def hold(self) -> None:
        """Keep live messages aside until ``release`` (while a resume is replayed)."""
        self._held = []

    def release(self, sent_up_to: int) -> None:
        held, self._held = self._held or [], None
        self._floor = sent_up_to
        fresh = [m for m in held if m.get("seq", sent_up_to + 1) > sent_up_to]
        if fresh:
            self.send(fresh)

    def deliver(self, messages: list[Message], lowest_seq: int | None, text: bytes,
                binary: bytes | None) -> None:
        if self._held is not None:
            self._held.extend(messages)
            if len(self._held) > HOLD_LIMIT:
                self.outbox.cut_off("client too slow: resume backlog")
            return
        if lowest_seq is not None and lowest_seq <= self._floor:
            fresh = [m for m in messages if m.get("seq", self._floor + 1) > self._floor]
            if fresh:
                self.send(fresh)
            return
        self.outbox.send(binary if self.binary and binary is not None else text)


@dataclass(slots=True)
class _Write:
    """One flushed frame on its way to the sockets that were there when it was made."""

    subscribers: list[Subscriber]
    batch: list[Message]
    lowest: int | None
    text: bytes
    binary: bytes | None
    done: int = 0


class StreamChannel:
    def __init__(self, hub: Hub, stream_id: str, last_seq: int) -> None:
        self.hub = hub
        self.stream_id = stream_id
        self.last_seq = last_seq
        self._subscribers: set[Subscriber] = set()
        self._early: dict[int, Message] = {}
        self._gap_timer: asyncio.TimerHandle | None = None
        self._gap_fill: asyncio.Task[None] | None = None
        self._pending: list[Message] = []
        self._flush_at: asyncio.TimerHandle | asyncio.Handle | None = None
        self._last_flush = 0.0
        self._writes: deque[_Write] = deque()
        self._writer: asyncio.Handle | None = None

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> int:
        """Forget ``subscriber``; returns how many remain."""
        self._subscribers.discard(subscriber)
        return len(self._subscribers)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- ordering --------------------------------------------------------------------

    def deliver(self, message: Message) -> None:
        seq = message.get("seq")
        if not isinstance(seq, int):
            self._enqueue(message)
            return
        if seq <= self.last_seq:
            return  # already delivered (an echo, or read from the log)
        if seq == self.last_seq + 1:
            self.last_seq = seq
            self._enqueue(message)
            self._drain_early()
            return
        self._early[seq] = message
        if self._gap_timer is None and self._gap_fill is None:
            self._gap_timer = asyncio.get_running_loop().call_later(GAP_WAIT_SEC,
                                                                    self.start_gap_fill)

    def _drain_early(self) -> None:
        while (message := self._early.pop(self.last_seq + 1, None)) is not None:
            self.last_seq += 1
            self._enqueue(message)
        if not self._early and self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def start_gap_fill(self) -> None:
        """Read the missing messages from the event log now (an early message waited long
        enough, or the bus was cut off)."""
        self._gap_timer = None
        if self._gap_fill is None:
            self._gap_fill = asyncio.get_running_loop().create_task(self.fill_gap())

    async def fill_gap(self) -> None:
        """Read what this channel missed from the event log, in order."""
        try:
            while True:
                rows = await self.hub.store.events.since(self.stream_id, self.last_seq, 500)
                for seq, body in rows:
                    if seq == self.last_seq + 1:
                        self._early.pop(seq, None)
                        self.last_seq = seq
                        self._enqueue(json.loads(body))
                self._drain_early()
                if len(rows) < 500:
                    break
        except Exception:
            log.exception("could not read the event log", extra={"fields": {
                "stream": self.stream_id}})
        finally:
            self._gap_fill = None
        if self._early:  # still missing: the log does not have them yet
            self._early = {s: m for s, m in self._early.items() if s > self.last_seq}
            if self._early and self._gap_timer is None:
                self._gap_timer = asyncio.get_running_loop().call_later(
                    GAP_WAIT_SEC, self.start_gap_fill)

    # -- batching --------------------------------------------------------------------

    def _enqueue(self, message: Message) -> None:
        if not self._subscribers:
            return
        self._pending.append(message)
        if self._flush_at is not None:
            return
        loop = asyncio.get_running_loop()
        hub = self.hub
        # Each flush costs a write per socket: past max_frames_per_sec, batch longer.
        due = self._last_flush + max(hub.flush_interval,
                                     len(self._subscribers) / hub.max_frames_per_sec)
        if due <= loop.time():
            self._flush_at = loop.call_soon(self.flush)
        else:
            self._flush_at = loop.call_at(due, self.flush)

    def flush(self) -> None:
        self._flush_at = None
        self._last_flush = asyncio.get_running_loop().time()
        batch, self._pending = self._pending, []
        if not batch:
            return
        body: Message | list[Message] = batch[0] if len(batch) == 1 else batch
        text = ws_frame(encode_json(body), OP_TEXT)
        binary = None
        subscribers = list(self._subscribers)
        if any(s.binary for s in subscribers):
            binary = ws_frame(encode_msgpack(body), OP_BINARY)
        lowest = next((m["seq"] for m in batch if isinstance(m.get("seq"), int)), None)
        self._writes.append(_Write(subscribers, batch, lowest, text, binary))
        if len(self._writes) == 1:
            self._write_some()

    def _write_some(self) -> None:
        """Writes go out WRITE_CHUNK sockets at a time, in flush order, with the loop's
        other work (store replies, new requests) let in between: a flush to thousands of
        sockets takes tens of milliseconds, and nothing else should wait that long."""
        self._writer = None
        write = self._writes[0]
        end = min(write.done + WRITE_CHUNK, len(write.subscribers))
        for subscriber in write.subscribers[write.done:end]:
            subscriber.deliver(write.batch, write.lowest, write.text, write.binary)
        write.done = end
        if end == len(write.subscribers):
            self._writes.popleft()
        if self._writes:
            self._writer = asyncio.get_running_loop().call_soon(self._write_some)

    def close(self) -> None:
        self._writes.clear()
        for handle in (self._gap_timer, self._flush_at, self._writer):
            if handle is not None:
                handle.cancel()
        if self._gap_fill is not None:
            self._gap_fill.cancel()


class Hub:
    """This process's stream channels: a channel opens when its first socket joins and
    closes when its last one leaves."""

    def __init__(self, store: Store, flush_interval_ms: int, max_frames_per_sec: int) -> None:
        self.store = store
        self.flush_interval = flush_interval_ms / 1000
        self.max_frames_per_sec = max_frames_per_sec
        self._channels: dict[str, StreamChannel] = {}
        self._opening: dict[str, asyncio.Future[StreamChannel]] = {}

    async def start(self) -> None:
        """Nothing to start: channels open as sockets join."""

    async def stop(self) -> None:
        self.close()

    async def _channel(self, stream_id: str) -> StreamChannel:
        channel = self._channels.get(stream_id)
        if channel is not None:
            return channel
        opening = self._opening.get(stream_id)
        if opening is not None:
            return await asyncio.shield(opening)
        future: asyncio.Future[StreamChannel] = asyncio.get_running_loop().create_future()
        self._opening[stream_id] = future
        try:
            last_seq = await self.store.events.latest_seq(stream_id)
            channel = self._channels[stream_id] = StreamChannel(self, stream_id, last_seq)
            future.set_result(channel)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: joiners waiting on it re-raise their own
            raise
        finally:
            del self._opening[stream_id]
        return channel

    async def join(self, stream_id: str, subscriber: Subscriber) -> int:
        """Add ``subscriber`` to the stream's channel, holding the live messages for it
        until ``subscriber.release``; returns the channel's last ``seq``, the point the
        client's history or replay has to reach."""
        channel = await self._channel(stream_id)
        subscriber.hold()
        channel.add(subscriber)
        return channel.last_seq

    def leave(self, stream_id: str, subscriber: Subscriber) -> None:
        channel = self._channels.get(stream_id)
        if channel is None:
            return
        if channel.remove(subscriber) == 0:
            channel.close()
            del self._channels[stream_id]

    def last_seq(self, stream_id: str) -> int | None:
        """The last ``seq`` delivered here, while the stream has a channel."""
        channel = self._channels.get(stream_id)
        return None if channel is None else channel.last_seq

    def deliver(self, stream_id: str, message: Message) -> None:
        channel = self._channels.get(stream_id)
        if channel is not None:
            channel.deliver(message)

    def check_gaps(self) -> None:
        """After the bus was cut off: every channel reads what it may have missed."""
        for channel in self._channels.values():
            channel.start_gap_fill()

    def subscriber_count(self) -> int:
        return sum(c.subscriber_count for c in self._channels.values())

    def stream_subscribers(self, stream_id: str) -> int:
        """Sockets joined to the stream's channel on this process."""
        channel = self._channels.get(stream_id)
        return 0 if channel is None else channel.subscriber_count

    def close(self) -> None:
        for channel in list(self._channels.values()):
            channel.close()
        self._channels.clear()
