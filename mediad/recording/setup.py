"""The recorder and the replay routes on the app."""

from __future__ import annotations

from aiohttp import web

from mediad.config import Config
from mediad.http.app import add_service
from mediad.recording.recorder import Recorder
from mediad.recording.vod import RECORDINGS, add_vod_routes
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry

__all__ = ["RECORDINGS", "setup_recording"]


def setup_recording(app: web.Application, config: Config, store: Store,
                    registry: StreamRegistry, pipelines: StreamPipelines) -> Recorder:
    recorder = Recorder(config, store, registry, pipelines)
    add_service(app, RECORDINGS, recorder)
    add_vod_routes(app)
    return recorder
