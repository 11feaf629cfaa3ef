"""The SRT listener's settings. The daemon's ``[srt]`` configuration section is this same
class (plus ``enabled``), so a setting is declared, bounded and documented once; ``min`` and
``max`` in a field's metadata are the bounds the daemon's config loader checks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SrtServerConfig:
    host: str = field(default="0.0.0.0", metadata={"config": False})
    """Bind address (the daemon's ``server.host``)."""
    port: int = field(default=9000, metadata={"min": 0, "max": 65535})
    app: str = "live"
    """The application a stream id may name before the key (``#!::r=APP/KEY``); a stream id
    naming another one is refused as not found, as RTMP refuses a wrong app. A bare key
    (``KEY``, ``#!::r=KEY``) names no application and is accepted."""
    latency_ms: int = field(default=120, metadata={"min": 20, "max": 8000})
    """Receiver latency offered in the handshake; the larger of both sides wins."""
    peer_idle_timeout_sec: float = field(default=5.0, metadata={"min": 1, "max": 60})
    max_connections: int = field(default=200, metadata={"min": 1, "max": 100_000})
    """Simultaneous SRT connections (handshakes included); more are refused."""
