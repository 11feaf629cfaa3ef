"""Clips of a live broadcast: during a real ffmpeg publish (1 s GOPs) a signed-in viewer
clips the last 5 s. The clip starts on a keyframe, lasts 5 s within one GOP, has a JPEG
poster, is listed under the stream's clips; another viewer may not delete it, the stream's
creator may."""

from __future__ import annotations

import io
import time

import av
import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call
from tests.interop.live_publisher_testing import publish
from tests.interop.recording_testing import (
    PASSTHROUGH,
    add_account,
    fetch,
    media_playlist_urls,
    playlist,
    video_frames,
    wait_listed,
)
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

CLIP_SECONDS = 5  # the API takes whole seconds
GOP_SECONDS = 1.0  # live_publisher_testing: -g 30 at 30 fps


def wait_dvr(daemon: DaemonProcess, stream: str, seconds: float, within: float = 25.0) -> None:
    """Until the live source playlist holds ``seconds`` of complete segments."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            (url, *_) = media_playlist_urls(f"{daemon.base_url}/hls/{stream}/index.m3u8")
            if sum(s.duration or 0.0 for s in playlist(url).segments) >= seconds:
                return
        except AssertionError:
            pass  # not listed yet
        time.sleep(0.2)
    raise AssertionError(f"the live playlist never held {seconds} s")


def test_a_viewer_clips_the_last_seconds_of_a_live_stream() -> None:
    ffmpeg = require_tool("ffmpeg")
    ffprobe = require_tool("ffprobe")
    with DaemonProcess(extra_config=PASSTHROUGH) as daemon:
        creator = add_account(daemon, "maker", "creator")
        clipper = add_account(daemon, "fan", "viewer")
        other = add_account(daemon, "passerby", "viewer")
        status, created = call(daemon, "POST", "/api/streams", creator, {"title": "Clippable"})
        assert status == 201, created
        stream = created["id"]
        status, key = call(daemon, "POST", f"/api/streams/{stream}/keys/primary/reveal",
                           creator)
        assert status == 200, key
        status, _ = call(daemon, "POST", f"/api/streams/{stream}/clips", None,
                         {"durationSec": CLIP_SECONDS})
        assert status == 401
        publisher = publish(ffmpeg, daemon.rtmp_url(key["key"]), 60)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            wait_dvr(daemon, stream, CLIP_SECONDS + 2 * GOP_SECONDS)
            status, clip = call(daemon, "POST", f"/api/streams/{stream}/clips", clipper,
                                {"durationSec": CLIP_SECONDS, "title": "That moment"})
        finally:
            publisher.kill()
            publisher.wait()
        assert status == 201, clip
        assert clip["kind"] == "clip"
        assert clip["title"] == "That moment"
        assert clip["createdBy"] == "fan"
        listed = wait_listed(daemon, f"/api/streams/{stream}/clips", "clips", None,
                             lambda found: bool(found) and found[0]["state"] == "complete")
        assert [c["id"] for c in listed] == [clip["id"]]  # listed, publicly
        clip = listed[0]
        assert abs(clip["durationSec"] - CLIP_SECONDS) <= GOP_SECONDS, clip["durationSec"]

        (media_url, *_) = media_playlist_urls(daemon.base_url + clip["playbackUrl"])
        frames = video_frames(ffprobe, media_url, "key_frame", "pict_type", "pts_time")
        assert frames[0]["key_frame"] == 1 and frames[0]["pict_type"] == "I", frames[0]
        download = fetch(daemon.base_url + clip["downloadUrl"])
        assert download.status == 200
        with av.open(io.BytesIO(download.body)) as container:
            first = next(container.demux(video=0))
            assert first.is_keyframe
            duration = float(container.duration or 0) / av.time_base
        assert abs(duration - CLIP_SECONDS) <= GOP_SECONDS, duration

        poster = fetch(daemon.base_url + clip["posterUrl"])
        assert poster.status == 200
        assert poster.headers.get("Content-Type", "").startswith("image/jpeg")
        with av.open(io.BytesIO(poster.body)) as image:
            picture = next(image.decode(video=0))
            assert picture.width > 0 and picture.height > 0

        status, _ = call(daemon, "DELETE", f"/api/recordings/{clip['id']}", other)
        assert status == 403
        status, _ = call(daemon, "DELETE", f"/api/recordings/{clip['id']}", creator)
        assert status == 204
        status, listed = call(daemon, "GET", f"/api/streams/{stream}/clips")
        assert status == 200 and listed["clips"] == [], listed
        assert fetch(daemon.base_url + clip["playbackUrl"]).status == 404
