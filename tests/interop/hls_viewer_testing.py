"""The player's side of a live LL-HLS stream, for the interop tests of publish changes: the
multivariant and media playlists as the ``m3u8`` package (a reader we did not write) reads
them, whether a media playlist still moves or has ended, whether a blocking request for
its next part is answered, and ffprobe/ffmpeg decoding what a rendition serves now."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8

_HINT = re.compile(r"seg(\d+)\.(\d+)\.m4s")


def get(url: str, timeout: float = 15.0) -> tuple[int, bytes]:
    """(HTTP status, body); an error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def rendition_name(uri: str) -> str:
    """``{session}/{rendition}/index.m3u8`` → ``rendition``."""
    return uri.rsplit("/", 2)[-2]


@dataclass(frozen=True)
class Listing:
    """One answer of the multivariant playlist, read by ``m3u8``."""

    url: str
    text: str
    parsed: Any
    """The ``m3u8.M3U8``."""

    @property
    def variants(self) -> dict[str, Any]:
        """Rendition name → its EXT-X-STREAM-INF (``m3u8.Playlist``)."""
        return {rendition_name(p.uri): p for p in self.parsed.playlists}

    @property
    def audio(self) -> dict[str, Any]:
        """Rendition name → its EXT-X-MEDIA TYPE=AUDIO (``m3u8.Media``)."""
        return {rendition_name(m.uri): m for m in self.parsed.media
                if m.type == "AUDIO" and m.uri}

    @property
    def names(self) -> set[str]:
        return {*self.variants, *self.audio}

    def media_url(self, name: str) -> str:
        entry = self.variants.get(name) or self.audio[name]
        return urllib.parse.urljoin(self.url, str(entry.uri))

    def media_urls(self) -> dict[str, str]:
        return {name: self.media_url(name) for name in sorted(self.names)}

    def resolutions(self) -> dict[str, str]:
        """"WxH" as declared → rendition name (how hls.js reports its levels)."""
        return {f"{p.stream_info.resolution[0]}x{p.stream_info.resolution[1]}": name
                for name, p in self.variants.items() if p.stream_info.resolution}


@dataclass(frozen=True)
class Media:
    """One answer of a media playlist."""

    url: str
    text: str
    parsed: Any

    @property
    def complete(self) -> list[Any]:
        """Complete segments (``m3u8`` lists the open one's parts as a segment without URI)."""
        return [s for s in self.parsed.segments if s.uri]

    @property
    def last_msn(self) -> int:
        return int(self.parsed.media_sequence) + len(self.complete) - 1

    @property
    def ended(self) -> bool:
        return bool(self.parsed.is_endlist)

    @property
    def discontinuity(self) -> bool:
        return any(s.discontinuity for s in self.parsed.segments)

    def hint(self) -> tuple[int, int] | None:
        """(MSN, part) of the preload hint."""
        hint = self.parsed.preload_hint
        if hint is None:
            return None
        found = _HINT.fullmatch(hint.uri)
        assert found, f"odd preload hint {hint.uri!r} in {self.url}"
        return int(found[1]), int(found[2])


def _playlist(url: str, what: str) -> tuple[str, Any]:
    """(text, ``m3u8.M3U8``) of a playlist that must be served now."""
    status, body = get(url)
    text = body.decode(errors="replace")
    assert status == 200, f"{what} {url}: {status} {text[:300]}"
    return text, m3u8.loads(text)


def listing(url: str) -> Listing:
    return Listing(url, *_playlist(url, "multivariant playlist"))


def wait_listing(url: str, holds: Callable[[Listing], bool], what: str,
                 within: float = 15.0, *, live: bool = False) -> Listing:
    """The first multivariant playlist for which ``holds`` is true (polled). ``live``: the
    stream is already on air, so every answer must be the playlist (a player asking during
    a reconnect gets no error, nor a request held until it times out)."""
    deadline = time.monotonic() + within
    last = ""
    while True:
        asked = time.monotonic()
        status, body = get(url)
        last = f"{status}: {body.decode(errors='replace')}"
        if live:
            assert status == 200, (f"{what}: the live stream's multivariant playlist answered "
                                   f"{last[:300]} after {time.monotonic() - asked:.1f} s")
        if status == 200:
            found = Listing(url, body.decode(), m3u8.loads(body.decode()))
            if holds(found):
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s; last answer {last}")
        time.sleep(0.25)


def media(url: str) -> Media:
    return Media(url, *_playlist(url, "media playlist"))


def wait_media(url: str, holds: Callable[[Media], bool], what: str,
               within: float = 10.0) -> Media:
    deadline = time.monotonic() + within
    while True:
        found = media(url)
        if holds(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s; {url} is\n{found.text}")
        time.sleep(0.25)


def wait_advances(url: str, within: float = 8.0) -> Media:
    """The playlist once it lists a segment it did not list now (it is live and moving)."""
    before = media(url)
    assert not before.ended, f"{url} has ended:\n{before.text}"
    return wait_media(url, lambda now: now.last_msn > before.last_msn and not now.ended,
                      f"a new segment in {url} (last MSN {before.last_msn})", within)


def next_part_answered(url: str, within: float = 10.0) -> None:
    """A blocking reload for the preload hint's part is answered with it, and so is the part
    itself: the playlist is not frozen (a frozen one answers 503 after the hold time)."""
    now = media(url)
    hint = now.hint()
    assert hint is not None, f"a live playlist without a preload hint:\n{now.text}"
    msn, part = hint
    status, body = get(f"{url}?_HLS_msn={msn}&_HLS_part={part}", timeout=within)
    text = body.decode(errors="replace")
    assert status == 200, f"blocking reload of {url} for {msn}.{part}: {status} {text[:200]}"
    assert f"seg{msn}.{part}.m4s" in text or "#EXT-X-ENDLIST" in text, text
    status, body = get(urllib.parse.urljoin(url, f"seg{msn}.{part}.m4s"), timeout=within)
    assert status == 200 and body, f"part {msn}.{part} of {url}: {status}"


@dataclass(frozen=True)
class Decoded:
    """What ffprobe found in a rendition's newest init section and segments."""

    streams: dict[str, dict[str, Any]]
    """codec_type → ffprobe's stream entry."""
    init: str
    """The init section's URI: a new one after a change of codec parameters."""


def decode_recent(url: str, folder: Path, segments: int = 2) -> Decoded:
    """Downloads the playlist's newest init section and up to ``segments`` complete segments
    under it, as a player joining now would; ffprobe lists their streams and ffmpeg decodes
    them whole without an error."""
    now = wait_media(url, lambda m: bool(m.complete), f"a complete segment in {url}")
    newest = now.complete[-1].init_section
    assert newest is not None, f"no EXT-X-MAP before the last segment:\n{now.text}"
    chosen = [s for s in now.complete
              if s.init_section is not None and s.init_section.uri == newest.uri][-segments:]
    body = bytearray()
    for uri in (newest.uri, *(s.uri for s in chosen)):
        status, data = get(urllib.parse.urljoin(url, uri))
        assert status == 200, f"{uri} of {url}: {status}"
        body += data
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rendition_name(url)}-{chosen[-1].uri}.mp4"
    path.write_bytes(bytes(body))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,codec_name,width,height,sample_rate", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, f"ffprobe {url}: {probe.stderr}"
    streams = {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}
    decode = subprocess.run(
        ["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-i", str(path), "-f", "null",
         "-"], capture_output=True, text=True, timeout=60)
    assert decode.returncode == 0 and not decode.stderr.strip(), (
        f"ffmpeg decoding {url} ({newest.uri} + {[s.uri for s in chosen]}): {decode.stderr}")
    return Decoded(streams, str(newest.uri))


def probe_url(url: str) -> dict[str, dict[str, Any]]:
    """ffprobe reading a playlist URL itself (libavformat's HLS demuxer): codec_type →
    stream."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,codec_name,width,height,sample_rate", "-of", "json", url],
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, f"ffprobe {url}: {probe.stderr}"
    return {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}
