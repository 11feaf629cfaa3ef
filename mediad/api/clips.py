"""Clips: a signed-in viewer or the creator keeps the last seconds of a live stream (cut from
its DVR window at keyframes by the recorder), and the stream's page lists them. Clips follow
their stream's replay visibility; each account may cut ``clips.per_user_per_hour``."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import API, require_user, too_many
from mediad.api.recordings import recorder_of, replays_stream
from mediad.api.validation import Fields
from mediad.api.views import recording_view
from mediad.http.jsonio import read_object, reply
from mediad.ratelimit import RateLimiter
from mediad.recording.recorder import ClipRefused

MAX_CLIP_TITLE = 120
DEFAULT_CLIP_SEC = 30
HOUR_SEC = 3600.0

CLIP_LIMITER = web.AppKey("clip_limiter", RateLimiter)


def setup_clips(app: web.Application) -> None:
    """After ``app[API]`` is set: the per-account limit comes from its config."""
    app[CLIP_LIMITER] = RateLimiter(app[API].config.clips.per_user_per_hour, HOUR_SEC,
                                       limit="clips")
    add = app.router.add_route
    add("GET", "/api/streams/{stream}/clips", list_clips)
    add("POST", "/api/streams/{stream}/clips", create_clip)


async def list_clips(request: web.Request) -> web.Response:
    """Newest first."""
    stream = await replays_stream(request)
    clips = recorder_of(request).library.for_stream(stream.id, "clip")
    return reply({"clips": [recording_view(c) for c in clips]})


def default_title(stream_title: str) -> str:
    return f"Clip of {stream_title}"[:MAX_CLIP_TITLE].rstrip()


async def create_clip(request: web.Request) -> web.Response:
    """``{"durationSec": 1..clips.max_sec, "title": ...}``: 201 with the clip once it is on
    disk; 409 when the stream is not live or its DVR window has nothing yet."""
    api = request.app[API]
    stream = await replays_stream(request)  # nobody cuts a clip they could not watch
    user = await require_user(request)
    fields = Fields(await read_object(request), {"durationSec", "title"})
    max_sec = api.config.clips.max_sec
    seconds = fields.integer("durationSec", 1, max_sec, default=min(DEFAULT_CLIP_SEC, max_sec))
    title = fields.text("title", max_length=MAX_CLIP_TITLE, default="")
    fields.done()
    wait = request.app[CLIP_LIMITER].acquire(f"u:{user.id}", api.clock())
    if wait:
        raise too_many(wait, "clips")
    try:
        clip = await recorder_of(request).clip(stream.id, float(seconds),
                                               title or default_title(stream.title), user)
    except ClipRefused as exc:
        return reply({"error": exc.reason}, exc.status)
    response = reply(recording_view(clip), 201)
    response.headers["Location"] = f"/api/recordings/{clip.id}"
    return response
