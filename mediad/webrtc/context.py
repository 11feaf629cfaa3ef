"""What the WHIP and WHEP handlers share."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from mediad.config import Config
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.webrtc.sessions import WebRtcSessions


@dataclass
class WebRtcContext:
    config: Config
    store: Store
    registry: StreamRegistry
    pipelines: StreamPipelines
    sessions: WebRtcSessions


WEBRTC = web.AppKey("webrtc", WebRtcContext)
