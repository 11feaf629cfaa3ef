"""``GET /vod/{recording}/download.mp4``: one progressive MP4 of a recording (one video
rendition, plus the recording's audio rendition when the video has no audio of its own),
remuxed on the fly by ``packager.progressive_mp4`` from the recorded fragments.

Only box headers and ``moof`` boxes are read to plan the file (in a thread; the plan of a
complete recording is cached), and the body is streamed from the fragment files a bounded
chunk at a time, also read in a thread: the event loop never touches the disk and no
response holds more than one chunk. Single byte ranges (206/416) and HEAD are served, so
players can seek and download managers can resume.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from mediad.recording import layout
from mediad.recording.model import Recording, RenditionRecord
from packager.progressive_mp4 import (
    Chunk,
    FileRange,
    Mp4Error,
    Plan,
    index_fragments,
    parse_init,
    progressive_mp4,
)

log = logging.getLogger("mediad.recording")

CHUNK_BYTES = 1 << 20
"""The most one read (and one write to the client) holds."""
PLAN_CACHE_BYTES = 64 << 20
"""Cached plans are mostly their moov (about 12 bytes a sample): a bound on all of them."""
LONG_CACHE = "max-age=31536000, immutable"


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@dataclass(frozen=True, slots=True)
class _Download:
    plan: Plan
    paths: tuple[Path, ...]
    """The file of each plan source index."""
    etag: str


class _PlanCache:
    """Plans of complete recordings, least recently used out first, bounded in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._plans: OrderedDict[tuple[str, ...], _Download] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[str, ...]) -> _Download | None:
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
        return found

    def put(self, key: tuple[str, ...], download: _Download) -> None:
        if key in self._plans:
            return
        self._plans[key] = download
        self._bytes += _weight(download)
        while self._bytes > self.limit and self._plans:
            _, old = self._plans.popitem(last=False)
            self._bytes -= _weight(old)


def _weight(download: _Download) -> int:
    return sum(len(p) if isinstance(p, bytes) else 48 for p in download.plan.pieces)


_PLANS = _PlanCache(PLAN_CACHE_BYTES)


def _pick(recording: Recording, name: str | None) -> list[RenditionRecord] | web.Response:
    """The renditions to mux: the video one (asked for, else the tallest), the audio one
    after it (dropped later if the video carries audio)."""
    videos = recording.video_renditions()
    audio = recording.audio_rendition()
    if name is not None:
        chosen = recording.renditions.get(name)
        if chosen is None or not chosen.segments:
            known = [r.name for r in videos] + ([audio.name] if audio else [])
            return _json_error(400, f"no rendition {name!r} in this recording; it has "
                                    f"{', '.join(known) or 'none'}")
        if chosen.audio:
            return [chosen]
        return [chosen] + ([audio] if audio else [])
    if not videos:
        return [audio] if audio else _json_error(404, "the recording has no media")
    return [videos[0]] + ([audio] if audio else [])


def _plan(recording: Recording, renditions: Sequence[RenditionRecord]) -> _Download:
    """Reads the init sections and the ``moof`` boxes (blocking: runs in a thread)."""
    paths: list[Path] = []
    video: list[Chunk] = []
    audio: list[Chunk] = []
    audio_from_video = False
    for number, rendition in enumerate(renditions):
        if number and rendition.audio and audio_from_video:
            break  # the video rendition has its own audio
        folder = layout.rendition_dir(recording.directory, rendition.name)
        inits = {n: parse_init((folder / layout.init_name(n)).read_bytes())
                 for n in rendition.inits}
        for entry in rendition.segments:
            init = inits[entry.init]
            path = folder / entry.file_name
            source = len(paths)
            paths.append(path)
            with path.open("rb") as file:
                def read(offset: int, length: int) -> bytes:
                    return os.pread(file.fileno(), length, offset)

                runs = index_fragments(read, os.fstat(file.fileno()).st_size, init)
            for run in runs:
                track = init.track(run.track_id)
                if track.video:
                    video.append(Chunk(source, track, run))
                elif track.handler == b"soun":
                    audio.append(Chunk(source, track, run))
                    audio_from_video |= number == 0
    tracks = [chunks for chunks in (video, audio) if chunks]
    plan = progressive_mp4(tracks)
    names = "+".join(r.name for r in renditions[:1 if audio_from_video else None])
    return _Download(plan, tuple(paths), f'"{recording.id}-{names}-{plan.size}"')


def _read(paths: Sequence[Path], ranges: Sequence[FileRange]) -> bytes:
    """The bytes of ``ranges`` back to back (blocking: runs in a thread)."""
    out = []
    opened: dict[int, int] = {}
    try:
        for piece in ranges:
            fd = opened.get(piece.source)
            if fd is None:
                fd = opened[piece.source] = os.open(paths[piece.source], os.O_RDONLY)
            data = os.pread(fd, piece.length, piece.offset)
            if len(data) != piece.length:
                raise OSError(f"{paths[piece.source]} is shorter than it was")
            out.append(data)
    finally:
        for fd in opened.values():
            os.close(fd)
    return b"".join(out)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _range(header: str | None, size: int) -> tuple[int, int] | web.Response | None:
    """(start, stop) of a single satisfiable range, None to send everything (no Range,
    one we do not parse or several), or a 416 response."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:
        start, stop = max(size - int(last), 0), size
        if int(last) == 0:
            start = size
    else:
        start = int(first)
        stop = min(int(last) + 1, size) if last else size
        if last and int(last) < start:
            return None  # invalid: ignored (RFC 9110 §14.2)
    if start >= size:
        response = _json_error(416, "range not satisfiable")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    return start, stop


def _file_name(title: str) -> tuple[str, str]:
    """(an ASCII-safe file name, the RFC 5987 UTF-8 one) for Content-Disposition."""
    safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", title).strip(" ._-")[:100] or "recording"
    return safe + ".mp4", urllib.parse.quote((title.strip() or "recording")[:100] + ".mp4", safe="")


async def serve_download(request: web.Request, recording: Recording, *,
                         cache_scope: str = "private") -> web.StreamResponse:
    """The MP4 of ``recording`` (found, and visible to whoever asks). ``cache_scope``:
    ``public`` when the stream's replays are public (shared caches may keep it)."""
    picked = _pick(recording, request.query.get("rendition"))
    if isinstance(picked, web.Response):
        return picked
    key = (recording.id, str(recording.directory), *(r.name for r in picked),
           str(sum(len(r.segments) for r in picked)))
    download = _PLANS.get(key) if recording.complete else None
    if download is None:
        try:
            download = await asyncio.to_thread(_plan, recording, picked)
        except (Mp4Error, KeyError) as exc:
            log.warning("recording cannot be remuxed to MP4", extra={"fields": {
                "recording": recording.id, "reason": str(exc)}})
            return _json_error(500, "the recording's files cannot be read")
        except OSError:
            return _json_error(404, "the recording's files are gone")
        if recording.complete:
            _PLANS.put(key, download)
    plan = download.plan
    plain, utf8 = _file_name(recording.title)
    headers = {
        "Content-Type": "video/mp4",
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{plain}"; filename*=UTF-8\'\'{utf8}',
        "Cache-Control": (f"{cache_scope}, {LONG_CACHE}" if recording.complete
                          else f"{cache_scope}, no-cache"),
    }
    if recording.complete:
        headers["ETag"] = download.etag
    wanted: tuple[int, int] | web.Response | None = _range(
        request.headers.get("Range"), plan.size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range != download.etag:
        wanted = None  # the file changed since the client's first part: send it whole
    if isinstance(wanted, web.Response):
        wanted.headers.update({k: v for k, v in headers.items() if k != "Content-Type"})
        return wanted
    start, stop = wanted or (0, plan.size)
    response = web.StreamResponse(status=206 if wanted else 200, headers=headers)
    if wanted:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{plan.size}"
    response.content_length = stop - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    try:
        await _stream(response, download, start, stop)
    except OSError as exc:  # deleted (retention, the creator) while it was being sent
        log.warning("recording download cut short", extra={"fields": {
            "recording": recording.id, "reason": str(exc)}})
        return response
    await response.write_eof()
    return response


async def _stream(response: web.StreamResponse, download: _Download, start: int,
                  stop: int) -> None:
    position = start
    while position < stop:
        end = min(position + CHUNK_BYTES, stop)
        pieces = download.plan.slice(position, end)
        ranges = [p for p in pieces if isinstance(p, FileRange)]
        data = memoryview(await asyncio.to_thread(_read, download.paths, ranges)
                          if ranges else b"")
        out: list[bytes | memoryview] = []
        at = 0
        for piece in pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            else:
                out.append(data[at:at + piece.length])
                at += piece.length
        await response.write(b"".join(out))
        position = end
