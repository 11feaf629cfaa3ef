"""Posters: a live stream's thumbnail (``GET /thumbs/{stream}.jpg``) and the poster of a
recording or clip (``recording_poster``, for ``/vod/{recording}/poster.jpg``).

A live thumbnail is the first picture of the newest complete segment of the stream's
``source`` rendition (the tallest video rendition when there is no ``source``): a segment's
first part starts with a keyframe, so one keyframe is decoded (``packager.poster``). It is
made only when asked for, at most every ``thumbnails.interval_sec`` and only when a newer
segment exists; requests for a stream whose thumbnail is being made share that work, and
a few pictures at most are made at once (the ``MAKERS`` slots, shared with the recording
posters), each in a thread. A stream's thumbnail is forgotten when its pipeline goes.

A recording's poster is made once, from its tallest video rendition about a tenth into it
(``POSTER_AT``), written beside its manifest (``layout.POSTER``) and reused afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from mediad.config import ThumbnailsConfig
from mediad.http.app import add_service, json_error
from mediad.recording import layout
from mediad.recording.model import Recording, RenditionRecord, SegmentEntry
from mediad.stream_pipelines import StreamPipelines
from packager.llhls import MediaPlaylist
from packager.pipeline import SOURCE, StreamPipeline
from packager.poster import PosterError, poster_jpeg

__all__ = [
    "THUMBNAILS",
    "KeyframeSource",
    "Thumbnail",
    "Thumbnails",
    "newest_keyframe",
    "poster_segment",
    "recording_poster",
    "setup_thumbnails",
    "video_rendition",
]

log = logging.getLogger("mediad.thumbnails")

MAKERS = 2
"""Pictures made at once across every stream and recording (each decodes on one core)."""
POSTER_AT = 0.10
"""A recording's poster comes from this far into it..."""
POSTER_AT_MOST_SEC = 10.0
"""...but no later than this (the opening seconds of a long show, not its first frame)."""
POSTER_RETRY_SEC = 60.0
"""A recording whose poster could not be made is not tried again sooner than this."""
NOT_FOUND_MAX_AGE = 2
"""Seconds a 404 may be cached: a stream that goes live gets its thumbnail soon."""
STREAM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

K = TypeVar("K")
R = TypeVar("R")

PosterMaker = Callable[[bytes, bytes | memoryview, int], tuple[bytes, int, int]]
"""``packager.poster.poster_jpeg``'s shape: (init, fragment, max width) -> (JPEG, w, h)."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    jpeg: bytes
    made_at: float
    """Unix seconds (``Last-Modified``)."""
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class KeyframeSource:
    """Where a thumbnail comes from: a rendition's segment, its first part and init."""

    rendition: str
    msn: int
    init: bytes
    fragment: bytes | memoryview


@dataclass(slots=True)
class _Cached:
    pipeline: StreamPipeline
    """The pipeline it was made from: another one (a new broadcast) starts afresh."""
    source: tuple[str, int]
    """(rendition, segment) last made from, or tried."""
    thumbnail: Thumbnail | None
    """The newest picture made (kept when a later try failed)."""
    tried: float
    """Monotonic time of the last try."""
    failures: int = 0


class _Workshop:
    """Per event loop: the CPU slots and the recording posters being made."""

    def __init__(self) -> None:
        self.slots = asyncio.Semaphore(MAKERS)
        self.posters: dict[Path, asyncio.Task[Path | None]] = {}
        self.failed: dict[Path, float] = {}
        """Posters that could not be made, with the monotonic time of the try."""


_WORKSHOPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Workshop] = (
    weakref.WeakKeyDictionary())


def _workshop() -> _Workshop:
    loop = asyncio.get_running_loop()
    workshop = _WORKSHOPS.get(loop)
    if workshop is None:
        workshop = _WORKSHOPS[loop] = _Workshop()
    return workshop


def _share(tasks: dict[K, asyncio.Task[R]], key: K, task: asyncio.Task[R]) -> None:
    """``task`` is the work under ``key`` until it is done: requests meanwhile share it."""
    tasks[key] = task

    def forget(done: asyncio.Task[R]) -> None:
        if tasks.get(key) is done:
            del tasks[key]
    task.add_done_callback(forget)


# -- live thumbnails --------------------------------------------------------------------


class Thumbnails:
    """The live thumbnails of every stream being packaged, made on request."""

    def __init__(self, pipelines: StreamPipelines, config: ThumbnailsConfig, *,
                 maker: PosterMaker = poster_jpeg,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        """``maker`` makes the picture (in a thread); ``clock`` measures freshness,
        ``wall_clock`` dates the pictures."""
        self.pipelines = pipelines
        self.config = config
        self._maker = maker
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[str, _Cached] = {}
        self._making: dict[str, asyncio.Task[Thumbnail | None]] = {}

    async def start(self) -> None:
        """Nothing to do until a thumbnail is asked for."""

    async def stop(self) -> None:
        tasks = list(self._making.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._cache.clear()

    async def live(self, stream_id: str) -> Thumbnail | None:
        """The stream's thumbnail: the cached one while it is fresh (or nothing newer
        exists), else a new one; None when the stream is not being packaged or has no
        video keyframe yet."""
        self._forget_released()
        pipeline = self.pipelines.get(stream_id)
        if pipeline is None or pipeline.ended:
            return None
        cached = self._cache.get(stream_id)
        if cached is not None and (
                self._clock() - cached.tried < self.config.interval_sec):
            return cached.thumbnail
        keyframe = newest_keyframe(pipeline)
        if keyframe is None or (
                cached is not None and cached.source == (keyframe.rendition, keyframe.msn)):
            return cached.thumbnail if cached is not None else None
        task = self._making.get(stream_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._make(stream_id, pipeline, keyframe))
            _share(self._making, stream_id, task)
        return await asyncio.shield(task)

    def _forget_released(self) -> None:
        gone = [stream_id for stream_id, cached in self._cache.items()
                if self.pipelines.get(stream_id) is not cached.pipeline]
        for stream_id in gone:
            del self._cache[stream_id]

    async def _make(self, stream_id: str, pipeline: StreamPipeline, keyframe: KeyframeSource
                    ) -> Thumbnail | None:
        made: Thumbnail | None = None
        try:
            async with _workshop().slots:
                jpeg, width, height = await asyncio.to_thread(
                    self._maker, keyframe.init, keyframe.fragment, self.config.width)
            made = Thumbnail(jpeg, self._wall_clock(), width, height)
        except PosterError as exc:
            self._note_failure(stream_id, pipeline, exc)
        except Exception:  # a bug in the maker must not break the stream page
            log.exception("thumbnail failed", extra={"fields": {"stream": stream_id}})
        if self.pipelines.get(stream_id) is not pipeline:
            return None  # released (or replaced) while it was made
        cached = self._cache.get(stream_id)
        if cached is None or cached.pipeline is not pipeline:
            cached = self._cache[stream_id] = _Cached(pipeline, ("", 0), None, 0.0)
        cached.source, cached.tried = (keyframe.rendition, keyframe.msn), self._clock()
        if made is None:
            cached.failures += 1
        else:
            cached.thumbnail = made
        return cached.thumbnail

    def _note_failure(self, stream_id: str, pipeline: StreamPipeline, exc: PosterError
                      ) -> None:
        """Logged once per broadcast (a stream whose keyframes never decode would log at
        every interval otherwise)."""
        cached = self._cache.get(stream_id)
        first = cached is None or cached.pipeline is not pipeline or not cached.failures
        log.log(logging.WARNING if first else logging.DEBUG,
                "no thumbnail from the stream's keyframe",
                extra={"fields": {"stream": stream_id, "reason": str(exc)}})


def video_rendition(pipeline: StreamPipeline) -> tuple[str, MediaPlaylist] | None:
    """The rendition thumbnails come from: ``source`` when it has video, else the tallest
    video rendition."""
    renditions = pipeline.renditions
    source = renditions.get(SOURCE)
    if source is not None and source.resolution() is not None:
        return SOURCE, source.playlist
    tallest: tuple[int, str] | None = None
    for name, member in renditions.items():
        size = member.resolution()
        if size is not None and not renditions.is_audio(name) and (
                tallest is None or size[1] > tallest[0]):
            tallest = size[1], name
    return None if tallest is None else (tallest[1], renditions[tallest[1]].playlist)


def has_picture(pipelines: StreamPipelines, stream_id: str) -> bool:
    """Whether ``GET /thumbs/{stream}.jpg`` has a picture to give: the stream is packaged
    and a complete segment opens with a keyframe (in its first seconds it has none yet)."""
    pipeline = pipelines.get(stream_id)
    return pipeline is not None and not pipeline.ended and newest_keyframe(pipeline) is not None


def newest_keyframe(pipeline: StreamPipeline) -> KeyframeSource | None:
    """The first part of the newest complete segment of the thumbnails' rendition."""
    found = video_rendition(pipeline)
    if found is None:
        return None
    name, playlist = found
    for segment in reversed(playlist.segments):
        init = playlist.inits.get(segment.init)
        if segment.complete and segment.parts and segment.parts[0].independent \
                and init is not None:
            return KeyframeSource(name, segment.msn, init, segment.parts[0].data)
    return None


# -- HTTP --------------------------------------------------------------------------------

THUMBNAILS = web.AppKey("thumbnails", Thumbnails)


def setup_thumbnails(app: web.Application, thumbnails: Thumbnails) -> None:
    """``GET``/``HEAD /thumbs/{stream}.jpg``, served by ``thumbnails`` (stopped with the
    app)."""
    add_service(app, THUMBNAILS, thumbnails)
    app.router.add_get("/thumbs/{stream}.jpg", live_thumbnail)


def _not_found(message: str) -> web.Response:
    response = json_error(404, message)
    response.headers["Cache-Control"] = f"max-age={NOT_FOUND_MAX_AGE}"
    return response


async def live_thumbnail(request: web.Request) -> web.Response:
    stream_id = request.match_info["stream"]
    if not STREAM_ID.fullmatch(stream_id):
        return _not_found("no such stream")
    thumbnails = request.app[THUMBNAILS]
    thumbnail = await thumbnails.live(stream_id)
    if thumbnail is None:
        live = thumbnails.pipelines.get(stream_id)
        return _not_found("this stream is not live" if live is None or live.ended
                          else "this stream has no picture yet")
    headers = {"Cache-Control": f"public, max-age={max(1, round(thumbnails.config.interval_sec))}"}
    since = request.if_modified_since
    if since is not None and int(thumbnail.made_at) <= since.timestamp():
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=thumbnail.jpeg, content_type="image/jpeg",
                                headers=headers)
    response.last_modified = thumbnail.made_at
    return response


# -- recording posters ------------------------------------------------------------------


def poster_segment(segments: Sequence[SegmentEntry]) -> SegmentEntry | None:
    """The segment playing ``POSTER_AT`` into ``segments`` (at most ``POSTER_AT_MOST_SEC``
    in)."""
    if not segments:
        return None
    at = min(POSTER_AT * sum(entry.duration for entry in segments), POSTER_AT_MOST_SEC)
    elapsed = 0.0
    for entry in segments:
        elapsed += entry.duration
        if elapsed > at:
            return entry
    return segments[-1]


async def recording_poster(recording: Recording, max_width: int) -> Path | None:
    """The poster of ``recording`` (``layout.POSTER`` in its directory), made the first
    time it is asked for; None for an audio-only recording, one without segments yet, or
    one whose video cannot be decoded."""
    renditions = recording.video_renditions()
    if not renditions:
        return None
    path = recording.directory / layout.POSTER
    workshop = _workshop()
    task = workshop.posters.get(path)
    if task is None:
        task = asyncio.get_running_loop().create_task(
            _poster(recording.directory, renditions[0], path, max_width, workshop))
        _share(workshop.posters, path, task)
    return await asyncio.shield(task)


async def _poster(directory: Path, rendition: RenditionRecord, path: Path, max_width: int,
                  workshop: _Workshop) -> Path | None:
    if await asyncio.to_thread(path.is_file):
        return path
    failed = workshop.failed.get(path)
    if failed is not None and time.monotonic() - failed < POSTER_RETRY_SEC:
        return None
    chosen = poster_segment(rendition.segments)
    candidates = [e for e in (chosen, rendition.segments[0]) if e is not None]
    async with workshop.slots:
        made = await asyncio.to_thread(
            _write_poster, layout.rendition_dir(directory, rendition.name),
            list(dict.fromkeys(candidates)), path, max_width)
    if made is None:
        workshop.failed[path] = time.monotonic()
    else:
        workshop.failed.pop(path, None)
    return made


def _write_poster(folder: Path, candidates: list[SegmentEntry], path: Path, max_width: int
                  ) -> Path | None:
    """In a thread: the poster from the first candidate segment that gives one, written
    atomically (a temporary file renamed: a reader never sees half a JPEG)."""
    for entry in candidates:
        try:
            init = (folder / layout.init_name(entry.init)).read_bytes()
            jpeg, _, _ = poster_jpeg(init, (folder / entry.file_name).read_bytes(), max_width)
        except (OSError, PosterError) as exc:
            log.warning("no poster from a recorded segment", extra={"fields": {
                "path": str(folder / entry.file_name), "reason": str(exc)}})
            continue
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            temporary.write_bytes(jpeg)
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("poster not written", extra={"fields": {
                "path": str(path), "reason": str(exc)}})
            temporary.unlink(missing_ok=True)
            return None
        return path
    return None
