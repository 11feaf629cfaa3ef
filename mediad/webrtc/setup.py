"""WHIP (and WHEP) in the daemon's HTTP app."""

from __future__ import annotations

from aiohttp import web

from mediad.config import Config, ConfigError
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.webrtc.context import WEBRTC, WebRtcContext
from mediad.webrtc.ice_servers import IceServerError
from mediad.webrtc.peer import PeerFactory
from mediad.webrtc.receiver_tap import check_aiortc
from mediad.webrtc.sessions import WebRtcSessions
from mediad.webrtc.whep import setup_whep
from mediad.webrtc.whip import setup_whip


def setup_webrtc(app: web.Application, config: Config, store: Store,
                 registry: StreamRegistry, pipelines: StreamPipelines, *,
                 descriptor_limit: int = 0) -> WebRtcContext:
    """Routes and shared state; raises ``ConfigError`` for an ICE server that does not
    parse. ``descriptor_limit``: the process's (0: sessions are not checked against it).
    The caller closes ``sessions`` at shutdown, before the pipelines end."""
    check_aiortc()
    try:
        peers = PeerFactory(config.webrtc)
    except (IceServerError, ValueError) as exc:
        raise ConfigError(f"webrtc: {exc}") from None
    ceiling = max(1, descriptor_limit - config.server.descriptor_reserve) \
        if descriptor_limit else 0
    sessions = WebRtcSessions(config.webrtc, descriptor_ceiling=ceiling)
    context = WebRtcContext(config, store, registry, pipelines, sessions, peers)
    app[WEBRTC] = context
    setup_whip(app)
    setup_whep(app)
    return context
