"""A publisher attached to the real registry the way RTMP and SRT attach one."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediad.streams import Publisher
from tests.mediad.api.conftest import ApiEnv


@dataclass
class Connection:
    """The ingest side of a publisher: what the registry tells it."""

    dropped: list[str] = field(default_factory=list)


async def publish(env: ApiEnv, stream_id: str, kind: str = "primary"
                  ) -> tuple[Publisher, Connection]:
    keys = await env.store.keys.for_stream(stream_id)
    connection = Connection()
    publisher = await env.registry.start_publish(
        protocol="rtmp", key=keys[kind].secret, peer="127.0.0.1:5000",  # type: ignore[index]
        disconnect=lambda dropped: connection.dropped.append(dropped.description))
    return publisher, connection
