"""The REST API the control room and the player use (``docs/openapi.yaml``)."""

from __future__ import annotations

from aiohttp import web

from mediad.api.analytics import setup_analytics
from mediad.api.clips import setup_clips
from mediad.api.context import API, ApiContext
from mediad.api.keys import setup_keys
from mediad.api.moderators import setup_moderators
from mediad.api.recordings import setup_recordings
from mediad.api.sessions import setup_sessions
from mediad.api.settings import setup_settings
from mediad.api.streams import setup_streams

__all__ = ["ApiContext", "setup_api"]


def setup_api(app: web.Application, api: ApiContext) -> None:
    app[API] = api
    setup_sessions(app)
    setup_streams(app)
    setup_keys(app)
    setup_settings(app)
    setup_moderators(app)
    setup_analytics(app)
    setup_recordings(app)
    setup_clips(app)
