"""A recording daemon as the recording interop tests drive it: accounts made with mediad's
CLI, the API polled until its recordings are as wanted, VOD URLs fetched with their headers,
playlists parsed with ``m3u8``, and a recording's files and journal on disk."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8

from mediad.recording.layout import JOURNAL
from mediad.recording.model import SegmentEntry
from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call
from tests.interop.live_publisher_testing import publish

PASSTHROUGH = "[transcode]\nenabled = false\n[webrtc]\nenabled = false\n"
"""The source only (its audio muxed in), no WebRTC: the quickest daemon that records."""


def recordings_root(daemon: DaemonProcess) -> Path:
    assert daemon.data_dir is not None
    return daemon.data_dir / "recordings"


def add_account(daemon: DaemonProcess, handle: str, role: str) -> str:
    """A new account (``mediad user add``, as a self-hoster makes one), signed in: its
    access token."""
    assert daemon.data_dir is not None
    password = secrets.token_urlsafe(12)
    subprocess.run([sys.executable, "-m", "mediad", "--config",
                    str(daemon.data_dir / "mediad.toml"), "user", "add", handle, "--role", role,
                    "--password-stdin"], input=password + "\n", text=True, capture_output=True,
                   check=True, timeout=30)
    status, body = call(daemon, "POST", "/api/auth/login",
                        body={"handle": handle, "password": password})
    assert status == 200, body
    return str(body["accessToken"])


def wait_listed(daemon: DaemonProcess, path: str, key: str, token: str | None,
                wanted: Callable[[list[dict[str, Any]]], bool], within: float = 20.0
                ) -> list[dict[str, Any]]:
    """``GET path`` until the list under ``key`` is as wanted."""
    deadline = time.monotonic() + within
    status, body = 0, None
    while time.monotonic() < deadline:
        status, body = call(daemon, "GET", path, token)
        if status == 200 and wanted(body[key]):
            return list(body[key])
        time.sleep(0.2)
    raise AssertionError(f"GET {path} never as wanted: {status} {body}")


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


def record_broadcast(daemon: DaemonProcess, ffmpeg: str, token: str, seconds: float,
                     while_live: Callable[[], object] = lambda: None
                     ) -> tuple[dict[str, Any], object]:
    """A real ffmpeg publish of about ``seconds`` to the daemon's stream, ended through the
    API: the stream's one recording once it is complete, and what ``while_live`` returned
    (called once the publisher is attached)."""
    stream = daemon.banner.stream_id
    publisher = publish(ffmpeg, daemon.rtmp_url(), 60)
    try:
        daemon.wait_for_log("publisher attached", timeout=20)
        attached = time.monotonic()
        seen = while_live()
        time.sleep(max(0.0, seconds - (time.monotonic() - attached)))
        status, body = call(daemon, "PUT", f"/api/streams/{stream}/state", token,
                            {"state": "ended"})
        assert status == 200, body
    finally:
        publisher.kill()
        publisher.wait()
    (recording,) = wait_listed(
        daemon, f"/api/streams/{stream}/recordings", "recordings", token,
        lambda found: len(found) == 1 and found[0]["state"] == "complete")
    return recording, seen


def fetch(url: str) -> Fetched:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return Fetched(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return Fetched(exc.code, dict(exc.headers.items()), exc.read())


def playlist(url: str) -> m3u8.M3U8:
    fetched = fetch(url)
    assert fetched.status == 200, (url, fetched.status, fetched.body[:200])
    return m3u8.loads(fetched.body.decode(), uri=url)


def media_playlist_urls(multivariant_url: str) -> list[str]:
    """Every media playlist a multivariant playlist names: variants, then renditions."""
    parsed = playlist(multivariant_url)
    urls = [urllib.parse.urljoin(multivariant_url, p.uri) for p in parsed.playlists]
    urls += [urllib.parse.urljoin(multivariant_url, m.uri) for m in parsed.media if m.uri]
    return urls


def journal(directory: Path, rendition: str) -> list[SegmentEntry]:
    """The complete lines of a rendition's journal (a line torn by a crash left out)."""
    raw = (directory / rendition / JOURNAL).read_bytes()
    return [SegmentEntry.from_line(line) for line in raw.split(b"\n")[:-1] if line]


def journal_lines(directory: Path, rendition: str) -> int:
    path = directory / rendition / JOURNAL
    return path.read_bytes().count(b"\n") if path.exists() else 0


def video_frames(ffprobe: str, url: str, *entries: str) -> list[dict[str, Any]]:
    """The video frames ffprobe decodes from ``url`` (``-show_frames``)."""
    out = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_frames",
                          "-show_entries", "frame=" + ",".join(entries), "-of", "json", url],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return list(json.loads(out)["frames"])
