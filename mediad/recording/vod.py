"""Replays over HTTP: a recording's multivariant and media playlists, its media files (the
bytes live viewers were served), its poster and its MP4 download.

URLs are ``/vod/{recording}/...``. A recording id is 96 random bits, so the URLs of a
stream's private replays are capabilities: the API lists them only to those who may see
them, and their responses are never stored by shared caches. Media files never change
once written, so they are cached as immutable; a complete recording's playlists too.
"""

from __future__ import annotations

import math

from aiohttp import web

from mediad.http.app import CONFIG, STORE, json_error
from mediad.http.hls import PLAYLIST_TYPE, preflight
from mediad.recording.download import serve_download
from mediad.recording.layout import RECORDING_ID, RENDITION_NAME, init_name
from mediad.recording.model import Recording, RenditionRecord
from mediad.recording.recorder import Recorder
from mediad.thumbnails import recording_poster
from packager.llhls import Rendered
from packager.multivariant import AudioRendition, Variant, render_multivariant
from packager.renditions import AUDIO_GROUP
from packager.vod_playlist import VodSegment, render_vod_playlist

RECORDINGS = web.AppKey("recordings", Recorder)

LONG = "max-age=31536000, immutable"
RECORDING_CACHE_SEC = 1
"""Playlists of a recording still being recorded change with every segment."""
MISSING_CACHE_SEC = 5


def add_vod_routes(app: web.Application) -> None:
    add = app.router.add_get
    add("/vod/{recording}/index.m3u8", multivariant)
    add("/vod/{recording}/poster.jpg", poster)
    add("/vod/{recording}/download.mp4", download)  # GET and HEAD
    add("/vod/{recording}/{rendition}/index.m3u8", media_playlist)
    add("/vod/{recording}/{rendition}/{name}", media)
    app.router.add_route("OPTIONS", "/vod/{tail:.*}", preflight)
    app.on_response_prepare.append(_cors)


async def _cors(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/vod/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "Age, Content-Length, Content-Range, Accept-Ranges")


def _missing(message: str) -> web.Response:
    response = json_error(404, message)
    response.headers["Cache-Control"] = f"max-age={MISSING_CACHE_SEC}"
    return response


def _recording(request: web.Request) -> Recording:
    recording_id = request.match_info["recording"]
    recording = (request.app[RECORDINGS].library.get(recording_id)
                 if RECORDING_ID.fullmatch(recording_id) else None)
    if recording is None:
        raise web.HTTPNotFound(reason="no such recording")
    return recording


async def _scope(request: web.Request, recording: Recording) -> str:
    """Who may keep a copy: shared caches only for a stream whose replays are public."""
    stream = await request.app[STORE].streams.get(recording.stream_id)
    return "public" if stream is not None and stream.replays_public else "private"


async def _cache(request: web.Request, recording: Recording, *, changes: bool) -> str:
    """``changes``: a playlist, which changes while the recording is recorded."""
    scope = await _scope(request, recording)
    if changes and not recording.complete:
        return f"{scope}, max-age={RECORDING_CACHE_SEC}"
    return f"{scope}, {LONG}"


def _playlist(rendered: Rendered, cache: str) -> web.Response:
    return web.Response(body=rendered.text, content_type=PLAYLIST_TYPE,
                        headers={"Cache-Control": cache})


async def multivariant(request: web.Request) -> web.Response:
    recording = _recording(request)
    rendered = render_recording_multivariant(recording)
    if rendered is None:
        return _missing("the recording has no media yet")
    return _playlist(rendered, await _cache(request, recording, changes=True))


def render_recording_multivariant(recording: Recording) -> Rendered | None:
    """The same shape as the live multivariant playlist: the video renditions (tallest
    first), each with the audio rendition as its AUDIO group when there is one."""
    audio = recording.audio_rendition()
    groups = [] if audio is None else [AudioRendition(
        AUDIO_GROUP, audio.name, f"{audio.name}/index.m3u8", audio.channels or 2,
        audio.codecs, audio.peak_bps, audio.average_bps)]
    videos = recording.video_renditions()
    if videos:
        variants = [Variant(f"{video.name}/index.m3u8", video.peak_bps, video.average_bps,
                            video.codecs, (video.width, video.height) if video.height else None,
                            video.frame_rate, AUDIO_GROUP if groups else None)
                    for video in videos]
        return render_multivariant(variants, groups)
    if audio is not None:  # audio only: the audio rendition is the variant
        return render_multivariant([Variant(f"{audio.name}/index.m3u8", audio.peak_bps,
                                            audio.average_bps, audio.codecs)])
    return None


def _rendition(request: web.Request, recording: Recording) -> RenditionRecord:
    name = request.match_info["rendition"]
    record = recording.renditions.get(name) if RENDITION_NAME.fullmatch(name) else None
    if record is None or not record.segments:
        raise web.HTTPNotFound(reason="no such rendition")
    return record


def render_rendition_playlist(recording: Recording, record: RenditionRecord,
                              segment_target: float) -> Rendered:
    segments = [VodSegment(entry.file_name, init_name(entry.init), entry.duration,
                           entry.start, entry.discontinuity) for entry in record.segments]
    return render_vod_playlist(segments, complete=recording.complete,
                               target_duration=math.ceil(segment_target))


async def media_playlist(request: web.Request) -> web.Response:
    recording = _recording(request)
    record = _rendition(request, recording)
    target = request.app[CONFIG].hls.segment_duration_ms / 1000
    return _playlist(render_rendition_playlist(recording, record, target),
                     await _cache(request, recording, changes=True))


async def media(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    record = _rendition(request, recording)
    path = request.app[RECORDINGS].library.file(recording, record.name,
                                                request.match_info["name"])
    if path is None:
        return _missing("no such media file")
    response = web.FileResponse(path, headers={
        "Cache-Control": await _cache(request, recording, changes=False),
        "Content-Type": "video/mp4"})
    return response


async def poster(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    width = request.app[CONFIG].thumbnails.width
    path = await recording_poster(recording, width)
    if path is None:
        return _missing("the recording has no picture")
    return web.FileResponse(path, headers={
        "Cache-Control": await _cache(request, recording, changes=not recording.complete),
        "Content-Type": "image/jpeg"})


async def download(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    return await serve_download(request, recording,
                                cache_scope=await _scope(request, recording))
