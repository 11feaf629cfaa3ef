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
                 registry: StreamRegistry, pipelines: StreamPipelines) -> WebRtcContext:
    """Routes and shared state; raises ``ConfigError`` for an ICE server that does not
    parse. The caller closes ``sessions`` at shutdown, before the pipelines end."""
    check_aiortc()
    try:
        peers = PeerFactory(config.webrtc)
    except (IceServerError, ValueError) as exc:
        raise ConfigError(f"webrtc: {exc}") from None
    context = WebRtcContext(config, store, registry, pipelines,
                            WebRtcSessions(config.webrtc), peers)
    app[WEBRTC] = context
    setup_whip(app)
    setup_whep(app)
    return context
