"""The RTMP listener's settings. The daemon's ``[rtmp]`` configuration section is this same
class (plus ``enabled``), so a setting is declared, bounded and documented once; ``min`` and
``max`` in a field's metadata are the bounds the daemon's config loader checks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RtmpServerConfig:
    host: str = field(default="0.0.0.0", metadata={"config": False})
    """Bind address (the daemon's ``server.host``)."""
    port: int = field(default=1935, metadata={"min": 0, "max": 65535})
    app: str = "live"
    """Application name in the OBS server URL ``rtmp://HOST:PORT/APP``."""
    max_connections: int = field(default=200, metadata={"min": 1, "max": 100_000})
    """All RTMP connections, publishing or not; past it a new one is refused unless an
    unauthenticated one can make room for it."""
    max_unauthenticated: int = field(default=100, metadata={"min": 1, "max": 100_000})
    """Connections whose publish is not accepted yet, all addresses together. When full, a
    new connection closes the oldest of them instead of being refused: an encoder needs
    milliseconds to publish, so idle connections renewed by a flood cannot lock it out."""
    max_unauthenticated_per_address: int = field(default=8, metadata={"min": 1,
                                                                      "max": 100_000})
    """Unauthenticated connections from one address; more are refused."""
    pre_auth_message_bytes: int = field(default=8 << 10, metadata={"min": 1024,
                                                                   "max": 1 << 20})
    """Largest message before the publish is accepted (connect, createStream and publish
    take a few hundred bytes)."""
    pre_auth_buffer_bytes: int = field(default=64 << 10, metadata={"min": 4096,
                                                                   "max": 16 << 20})
    """Everything a connection may hold before its publish is accepted: unfinished
    messages, and input that waits while the key is checked."""
    read_timeout_sec: float = field(default=30.0, metadata={"min": 1, "max": 3600})
    """A publishing connection that sends nothing for this long is closed."""
    max_message_bytes: int = field(default=8 << 20, metadata={"min": 4096, "max": 16_777_215})
    """Largest RTMP message accepted (a keyframe of a high-bitrate 4K stream fits in 8 MiB)."""
    handshake_timeout_sec: float = field(default=10.0, metadata={"min": 1, "max": 600})
    """A connection that has not started publishing within this time is closed."""
    max_write_buffer: int = field(default=1 << 20, metadata={"min": 4096, "max": 1 << 30})
    """A peer that does not read our (small) replies and acks is closed past this."""
