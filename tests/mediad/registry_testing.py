"""A stream with its keys in a real store, and a publisher connection that records kicks."""

from __future__ import annotations

from mediad.store import Store


async def make_stream(store: Store) -> tuple[str, str, str]:
    user = await store.users.create("dee", "Dee", "creator", "x")
    stream = await store.streams.create(user.id, "Show")
    primary = await store.keys.issue(stream.id, "primary")
    backup = await store.keys.issue(stream.id, "backup")
    return stream.id, primary.secret, backup.secret


class Kicks:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)
