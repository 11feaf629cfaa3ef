"""What the WHIP and WHEP handlers share."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from mediad.config import Config
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.webrtc.peer import PeerFactory
from mediad.webrtc.sessions import WebRtcSessions


@dataclass
class WebRtcContext:
    config: Config
    store: Store
    registry: StreamRegistry
    pipelines: StreamPipelines
    sessions: WebRtcSessions
    peers: PeerFactory
    """``peers.create()`` a configured RTCPeerConnection; ``await peers.answer(pc, offer)``
    its answer SDP with every candidate gathered; ``peers.ice_servers`` for Link headers."""


WEBRTC = web.AppKey("webrtc", WebRtcContext)
