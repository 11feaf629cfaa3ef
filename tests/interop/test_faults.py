"""Faults against a real daemon with a real ffmpeg publish: a ``kill -9`` while a stream is
live leaves it in a true state after the restart (reconnecting within the grace, then ended
with its reason; never live without a publisher), and the first publish after the restart
plays; deleting a stream takes its playlists and media off the web at once."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

GRACE_SEC = 4
CONFIG = f"[streams]\nreconnect_grace_sec = {GRACE_SEC}\n[transcode]\nenabled = false\n"


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def plays_within(daemon: DaemonProcess, seconds: float) -> bool:
    """The multivariant playlist answers 200 within ``seconds``."""
    deadline = time.monotonic() + seconds
    url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
    while time.monotonic() < deadline:
        if status_of(url) == 200:
            return True
        time.sleep(0.2)
    return False


def stream_state(daemon: DaemonProcess, stream_id: str) -> tuple[str, object]:
    status, body = call(daemon, "GET", f"/api/streams/{stream_id}")
    assert status == 200, body
    return str(body["state"]), body.get("endedAt")


@pytest.mark.parametrize("publish_again", ["within the grace", "after the grace"])
def test_after_a_kill_9_the_stream_is_true_and_the_first_publish_plays(
        publish_again: str) -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config=CONFIG) as daemon:
        banner = daemon.banner
        publisher = publish(ffmpeg, daemon.rtmp_url(), 60)
        try:
            assert plays_within(daemon, 15), daemon.logs
            daemon.restart(signal.SIGKILL)
        finally:
            publisher.kill()
            publisher.wait()
        state, ended_at = stream_state(daemon, banner.stream_id)
        assert state == "reconnecting" and ended_at is None, (state, daemon.logs)
        if publish_again == "after the grace":
            time.sleep(GRACE_SEC + 1)
            state, ended_at = stream_state(daemon, banner.stream_id)
            assert state == "ended" and ended_at, "a crashed broadcast ends after the grace"
        publisher = publish(ffmpeg, daemon.rtmp_url(), 30)
        try:
            assert plays_within(daemon, 8), f"the first publish did not play\n{daemon.logs}"
            assert stream_state(daemon, banner.stream_id)[0] == "live"
        finally:
            publisher.kill()
            publisher.wait()


def test_a_deleted_streams_playlists_and_media_are_gone_at_once() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config=CONFIG) as daemon:
        token = sign_in(daemon)
        stream_id = daemon.banner.stream_id
        publisher = publish(ffmpeg, daemon.rtmp_url(), 60)
        try:
            assert plays_within(daemon, 15), daemon.logs
            base = f"{daemon.base_url}/hls/{stream_id}"
            with urllib.request.urlopen(f"{base}/index.m3u8", timeout=10) as response:
                media = response.read().decode().splitlines()[-1]
            with urllib.request.urlopen(f"{base}/{media}", timeout=10) as response:
                segment = next(line for line in response.read().decode().splitlines()
                               if line.startswith("seg") and line.endswith(".m4s"))
            rendition = f"{base}/{media.rsplit('/', 1)[0]}"
            assert status_of(f"{rendition}/{segment}") == 200
            status, body = call(daemon, "DELETE", f"/api/streams/{stream_id}", token)
            assert status == 204, body
            assert status_of(f"{base}/index.m3u8") == 404
            assert status_of(f"{base}/{media}") == 404
            assert status_of(f"{rendition}/{segment}") == 404
        finally:
            publisher.kill()
            publisher.wait()
