"""A recorded broadcast is a VOD HLS presentation: a real ffmpeg publish through a
transcoding daemon (source + a 240p rung + audio live; the source and the audio recorded),
ended through the API. Its playlists parse with ``m3u8`` (VOD, ENDLIST, no segment over the
target duration, the live multivariant's shape), every media file is the recorded bytes with
immutable caching, and hls.js in Chromium plays it to the end."""

from __future__ import annotations

import math
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8
import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import sign_in
from tests.interop.hlsjs_watch_testing import Watch
from tests.interop.recording_testing import (
    fetch,
    media_playlist_urls,
    playlist,
    record_broadcast,
    recordings_root,
)
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

CONFIG = ("[webrtc]\nenabled = false\n"
          '[[transcode.ladder]]\nname = "240p"\nheight = 240\nbitrate_kbps = 300\n'
          'preset = "ultrafast"\n')
PUBLISH_SECONDS = 6.0
LONG_LIVED = 86400


@dataclass
class Replay:
    daemon: DaemonProcess
    recording: dict[str, Any]
    folder: Path
    live: m3u8.M3U8

    @property
    def multivariant_url(self) -> str:
        return self.daemon.base_url + str(self.recording["playbackUrl"])


def live_multivariant(daemon: DaemonProcess, within: float = 20.0) -> m3u8.M3U8:
    """The live multivariant playlist once it lists every rung of the ladder."""
    url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        fetched = fetch(url)
        if fetched.status == 200:
            parsed = m3u8.loads(fetched.body.decode(), uri=url)
            if len(parsed.playlists) >= 2:
                return parsed
        time.sleep(0.2)
    raise AssertionError("the live multivariant playlist never listed the ladder")


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    ffmpeg = require_tool("ffmpeg")
    data = tmp_path_factory.mktemp("vod") / "data"
    with DaemonProcess(extra_config=CONFIG, data_dir=data) as daemon:
        stream = daemon.banner.stream_id
        recording, live = record_broadcast(daemon, ffmpeg, sign_in(daemon), PUBLISH_SECONDS,
                                           lambda: live_multivariant(daemon))
        assert isinstance(live, m3u8.M3U8)
        yield Replay(daemon, recording, recordings_root(daemon) / stream / recording["id"],
                     live)


def variant_shape(variant: m3u8.Playlist) -> tuple[object, ...]:
    info = variant.stream_info
    return (info.resolution, info.codecs, info.audio, info.frame_rate)


def media_shape(media: m3u8.Media) -> tuple[object, ...]:
    return (media.type, media.group_id, media.name, media.default, media.autoselect,
            media.channels)


def max_age(cache_control: str) -> int:
    found = re.search(r"max-age=(\d+)", cache_control)
    return int(found[1]) if found else 0


def test_the_replay_playlists_and_media_are_the_recording(replay: Replay) -> None:
    recording = replay.recording
    multivariant = playlist(replay.multivariant_url)
    live_variants = {variant_shape(v) for v in replay.live.playlists}
    assert multivariant.playlists, "no variant in the replay's multivariant playlist"
    for variant in multivariant.playlists:  # the recorded rungs, described as live did
        assert variant_shape(variant) in live_variants, (variant_shape(variant), live_variants)
    assert [media_shape(m) for m in multivariant.media] == [
        media_shape(m) for m in replay.live.media]
    assert {r["name"] for r in recording["renditions"]} == {"source", "audio"}

    for url in media_playlist_urls(replay.multivariant_url):
        media = playlist(url)
        assert media.playlist_type == "vod", url
        assert media.is_endlist, url
        assert media.segments, url
        for segment in media.segments:  # RFC 8216 4.3.3.1: rounded to the nearest integer
            assert math.floor(segment.duration + 0.5) <= media.target_duration, (
                url, segment.uri, segment.duration)
        assert sum(s.duration for s in media.segments) == pytest.approx(
            recording["durationSec"], abs=0.15)
        files = {s.init_section.uri for s in media.segments if s.init_section is not None}
        files |= {s.uri for s in media.segments}
        assert any(name.endswith(".mp4") for name in files), "no init section listed"
        for name in sorted(files):
            absolute = urllib.parse.urljoin(url, name)
            fetched = fetch(absolute)
            assert fetched.status == 200, absolute
            cache = fetched.headers.get("Cache-Control", "")
            assert "immutable" in cache and max_age(cache) >= LONG_LIVED, (absolute, cache)
            rendition, file_name = urllib.parse.urlsplit(absolute).path.split("/")[-2:]
            assert fetched.body == (replay.folder / rendition / file_name).read_bytes(), absolute


def test_hlsjs_plays_the_replay_to_its_end(replay: Replay) -> None:
    duration = float(replay.recording["durationSec"])
    assert duration >= PUBLISH_SECONDS - 2
    watch = Watch(replay.multivariant_url, duration + 3).start()
    report = watch.report(timeout=duration + 60)
    reached = max(sample["currentTime"] for sample in report["samples"])
    assert reached >= duration - 0.5, (reached, duration, report["errors"])
