"""What changes in the stream registry, as typed events, and the subscriptions that get them.

A subscriber (the LL-HLS packaging, the real-time status messages)
reads its events from a queue of its own, in the order they happened; nothing is called
back from a socket callback. Frames do not travel here: readers get those through their
bounded ``Reader`` (``mediad/fanout.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal

from mediad.store.keys import KeyKind
from mediad.store.streams import StreamState

log = logging.getLogger("mediad.streams")

DepartureKind = Literal["disconnected", "taken_over", "demoted", "key_rotated", "ended",
                        "deleted", "shutdown"]
"""``taken_over``: a new connection on its key replaced a stalled publisher; ``demoted``:
the standby took over and this publisher is the standby now (stalled, or the primary came
back), still connected."""


@dataclass(frozen=True, slots=True)
class Departure:
    """Why a publisher stopped feeding its stream."""

    kind: DepartureKind
    description: str

    @property
    def final(self) -> bool:
        """The broadcast is over (rather than waiting for the encoder to come back)."""
        return self.kind in ("ended", "deleted")

    @property
    def refuses(self) -> bool:
        """The publish may not go on under its key (rather than having ended)."""
        return self.kind in ("taken_over", "key_rotated")


@dataclass(frozen=True, slots=True)
class PublisherInfo:
    protocol: str
    kind: KeyKind
    peer: str


@dataclass(frozen=True, slots=True)
class PublisherAttached:
    stream_id: str
    publisher: PublisherInfo
    replaced: PublisherInfo | None = None
    """The publisher this one took over from (the standby promoted, a stalled connection
    replaced), if any: the stream went on without passing through a publisher loss."""


@dataclass(frozen=True, slots=True)
class PublisherDetached:
    stream_id: str
    publisher: PublisherInfo
    departure: Departure


@dataclass(frozen=True, slots=True)
class StateChanged:
    stream_id: str
    state: StreamState
    previous: StreamState


@dataclass(frozen=True, slots=True)
class BroadcastEnded:
    """The creator ended the broadcast (or deleted the stream): viewers get the end now,
    even when the publisher had already gone and the state was ``ended`` before."""

    stream_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class StreamRemoved:
    """The stream was deleted: nothing of it is served any more."""

    stream_id: str


StreamEvent = PublisherAttached | PublisherDetached | StateChanged | BroadcastEnded | StreamRemoved

SUBSCRIPTION_CAPACITY = 10_000
"""Events a subscriber may leave unread; they are rare (a few per publish), so only a
subscriber that has stopped reading reaches it."""


class Subscription:
    """One subscriber's events, in order; ``async for`` ends once it is closed."""

    def __init__(self, name: str, feed: StreamEvents, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.lost = 0
        """Events dropped because this subscriber stopped reading (logged)."""
        self._feed = feed
        self._events: deque[StreamEvent] = deque()
        self._wakeup = asyncio.Event()
        self.closed = False

    def put(self, event: StreamEvent) -> None:
        if self.closed:
            return
        if len(self._events) >= self.capacity:
            self._events.popleft()
            self.lost += 1
            if self.lost == 1:
                log.error("stream event subscriber stopped reading", extra={"fields": {
                    "subscriber": self.name, "capacity": self.capacity}})
        self._events.append(event)
        self._wakeup.set()

    def get_nowait(self) -> StreamEvent | None:
        return self._events.popleft() if self._events else None

    async def get(self) -> StreamEvent:
        """The next event; raises EOFError once closed and drained."""
        while True:
            if self._events:
                return self._events.popleft()
            if self.closed:
                raise EOFError(self.name)
            self._wakeup.clear()
            await self._wakeup.wait()

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        while True:
            try:
                yield await self.get()
            except EOFError:
                return

    def close(self) -> None:
        """No more events; what is queued can still be read."""
        self.closed = True
        self._wakeup.set()
        self._feed.unsubscribe(self)


class StreamEvents:
    """Fans each event out to every subscription's queue; ``publish`` never waits."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def subscribe(self, name: str, replay: Iterable[StreamEvent] = (),
                  capacity: int = SUBSCRIPTION_CAPACITY) -> Subscription:
        subscription = Subscription(name, self, capacity)
        for event in replay:
            subscription.put(event)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, event: StreamEvent) -> None:
        for subscription in self._subscriptions:
            subscription.put(event)
