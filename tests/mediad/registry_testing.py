"""A stream with its keys in a real store, a publisher connection that records kicks, and a
clock a test moves by hand."""

from __future__ import annotations

from ingest.sink import Dropped
from mediad.store import Store


async def make_stream(store: Store, handle: str = "dee") -> tuple[str, str, str]:
    user = await store.users.create(handle, "Dee", "creator", "x")
    stream = await store.streams.create(user.id, "Show")
    primary = await store.keys.issue(stream.id, "primary")
    backup = await store.keys.issue(stream.id, "backup")
    return stream.id, primary.secret, backup.secret


class Kicks:
    """The ingest side's ``disconnect``: what the registry told each close."""

    def __init__(self) -> None:
        self.dropped: list[Dropped] = []

    def __call__(self, dropped: Dropped) -> None:
        self.dropped.append(dropped)

    @property
    def reasons(self) -> list[str]:
        return [d.description for d in self.dropped]


class ManualClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
