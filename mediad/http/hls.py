"""LL-HLS over HTTP: the multivariant and media playlists (blocking reload, delta updates),
init sections, parts (blocking on the preload hint) and segments.

URLs: ``/hls/{stream}/index.m3u8`` is the stable entry point; it lists media playlists
under a per-broadcast session (``/hls/{stream}/{session}/{rendition}/...``) so that media
URLs are never reused and can be cached as immutable. Caching follows the LL-HLS server
profile (``shared/specs/ll-hls.md`` §8); every response allows any origin (the player may
be served from elsewhere) and exposes ``Age`` for hls.js's CDN tune-in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re

from aiohttp import web

from mediad.config import HlsConfig
from mediad.http.app import CONFIG, METRICS, PLAYBACK_OBSERVERS, json_error
from mediad.metrics.hls import count_answer, held
from mediad.metrics.streams import StreamCollector
from mediad.stream_pipelines import StreamPipelines
from packager.llhls import Decision, MediaPlaylist, Rendered, decide, parse_directives
from packager.pipeline import StreamPipeline

PIPELINES = web.AppKey("pipelines", StreamPipelines)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
IMMUTABLE = "public, max-age=31536000, immutable"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Age"}

_PART = re.compile(r"seg(\d{1,12})\.(\d{1,6})\.m4s")
_SEGMENT = re.compile(r"seg(\d{1,12})\.m4s")
_INIT = re.compile(r"init(\d{1,9})\.mp4")


def setup_hls(app: web.Application, pipelines: StreamPipelines) -> None:
    app[PIPELINES] = pipelines
    app.router.add_get("/hls/{stream}/index.m3u8", multivariant)
    app.router.add_get("/hls/{stream}/{session}/{rendition}/index.m3u8", media_playlist)
    app.router.add_get("/hls/{stream}/{session}/{rendition}/{name}", media)
    app.router.add_route("OPTIONS", "/hls/{tail:.*}", preflight)
    app.on_response_prepare.append(_cors)
    app.on_response_prepare.append(_count)
    app[METRICS].add_collector(StreamCollector(pipelines))


async def _cors(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/hls/"):
        response.headers.update(CORS)


async def _count(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer under ``/hls/``, the router's 404s included, by kind and status."""
    if request.path.startswith("/hls/"):
        count_answer(request_kind(request), response.status)


def request_kind(request: web.Request) -> str:
    """What an ``/hls/`` request asks for, by its URL: the metrics' ``kind``."""
    if request.method != "GET" and request.method != "HEAD":
        return "other"
    parts = request.path.split("/")  # "", "hls", stream, [session, rendition,] name
    name = parts[-1]
    if len(parts) == 4:
        return "multivariant" if name == "index.m3u8" else "other"
    if len(parts) != 6:
        return "other"
    if name == "index.m3u8":
        return "playlist"
    if _PART.fullmatch(name):
        return "part"
    if _SEGMENT.fullmatch(name):
        return "segment"
    return "init" if _INIT.fullmatch(name) else "other"


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        # CMCD in header mode (hls.js cmcd.useHeaders): four request headers.
        "Access-Control-Allow-Headers": "Range, CMCD-Request, CMCD-Object, CMCD-Status, "
                                        "CMCD-Session",
        "Access-Control-Max-Age": "86400"})


def _error(status: int, message: str, max_age: float) -> web.Response:
    response = json_error(status, message)
    response.headers["Cache-Control"] = f"max-age={max(1, round(max_age))}"
    return response


def _playlist_response(request: web.Request, rendered: Rendered, cache: str) -> web.Response:
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = rendered.gzipped
    else:
        body = rendered.text
    return web.Response(body=body, content_type=PLAYLIST_TYPE, headers=headers)


def _observe(request: web.Request) -> None:
    """A viewer's playlist request counts them; one that came through a cache or a CDN
    (it says so in ``Via``: mediad's edge config sets it) stands for every viewer of that
    edge, or for none once cached, so it counts nobody: viewers behind an edge are counted
    by their players' WebSocket presence."""
    if "Via" in request.headers:
        return
    stream_id = request.match_info["stream"]
    for observer in request.app[PLAYBACK_OBSERVERS]:
        observer(stream_id, request)


async def multivariant(request: web.Request) -> web.Response:
    config: HlsConfig = request.app[CONFIG].hls
    _observe(request)
    pipeline = await request.app[PIPELINES].wait_pipeline(
        request.match_info["stream"], config.block_timeout_sec)
    if pipeline is None:
        return _error(404, "this stream is not live", 2)
    return _playlist_response(request, pipeline.multivariant(), "no-cache")


def _rendition(request: web.Request) -> tuple[StreamPipeline, MediaPlaylist] | None:
    pipeline = request.app[PIPELINES].get(request.match_info["stream"])
    if pipeline is None or pipeline.session != request.match_info["session"]:
        return None
    rendition = pipeline.renditions.lookup(request.match_info["rendition"])
    if rendition is None:
        return None
    return pipeline, rendition.playlist


async def media_playlist(request: web.Request) -> web.Response:
    config: HlsConfig = request.app[CONFIG].hls
    found = _rendition(request)
    if found is None:
        return _error(404, "no such playlist", 2)
    _observe(request)
    _, playlist = found
    try:
        msn, part, skip = parse_directives(list(request.query.items()))
    except ValueError as exc:
        return _error(400, str(exc), 2)
    hold = None
    if not playlist.ready:
        hold = await playlist.hold(lambda: playlist.ready, config.block_timeout_sec)
        if not hold.satisfied:
            held(hold, _now(), answered=False)
            return _error(503, "the stream is starting", 1)
    td = playlist.target_duration
    decision = decide(playlist, msn, part)
    if decision is Decision.BAD:
        return _error(400, "_HLS_msn/_HLS_part out of range", 4 * td)
    if decision is Decision.WAIT:
        wanted = msn or 0  # WAIT implies a requested MSN
        starting = hold
        hold = await playlist.hold(lambda: playlist.has(wanted, part),
                                   config.block_timeout_sec)
        if starting is not None:  # held since the playlist was not ready
            hold = dataclasses.replace(hold, started=starting.started)
        if not hold.satisfied:
            held(hold, _now(), answered=False)
            return _error(503, "the requested part did not appear in time", td)
    cache = f"public, max-age={6 * td}" if msn is not None else f"max-age={max(1, td // 2)}"
    response = _playlist_response(request, playlist.render(skip=skip), cache)
    if hold is not None:
        held(hold, _now(), answered=True)
    return response


def _now() -> float:
    """The clock held requests are timed on (``MediaPlaylist.hold``)."""
    return asyncio.get_running_loop().time()


async def media(request: web.Request) -> web.Response:
    config: HlsConfig = request.app[CONFIG].hls
    found = _rendition(request)
    if found is None:
        return _error(404, "no such rendition", 2)
    _, playlist = found
    name = request.match_info["name"]
    td = playlist.target_duration or 2
    if match := _PART.fullmatch(name):
        msn, index = int(match[1]), int(match[2])
        found_part = playlist.part(msn, index)
        if found_part is None and playlist.hint() == (msn, index):
            # The preload hint: answered the moment the part is complete.
            hold = await playlist.hold(lambda: playlist.part(msn, index) is not None
                                       or playlist.hint() != (msn, index),
                                       config.block_timeout_sec)
            found_part = playlist.part(msn, index)
            held(hold, _now(), answered=found_part is not None)
        if found_part is None:
            return _error(404, "no such part", td)
        return _media_response(found_part.data)
    if match := _SEGMENT.fullmatch(name):
        segment = playlist.segment(int(match[1]))
        if segment is None or not segment.complete:
            return _error(404, "no such segment", td)
        return _media_response(segment.data)
    if match := _INIT.fullmatch(name):
        init = playlist.inits.get(int(match[1]))
        if init is None:
            return _error(404, "no such init section", td)
        return _media_response(init)
    return _error(404, "not found", td)


def _media_response(body: bytes | memoryview) -> web.Response:
    return web.Response(body=body, content_type="video/mp4",
                        headers={"Cache-Control": IMMUTABLE})
