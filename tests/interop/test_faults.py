"""Faults against a real daemon with a real ffmpeg publish: a ``kill -9`` while a stream is
live leaves it in a true state after the restart (reconnecting within the grace, then ended
with its reason; never live without a publisher), and the first publish after the restart
plays; deleting a stream takes its playlists and media off the web at once."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mediad.stream_pipelines import TRIM_AFTER_SEC
from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.interop.shaped_publisher_testing import Shape, publish_shape
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


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_returns_after_fifty_streams_have_come_and_gone() -> None:
    """Fifty streams are created and each publishes 3 s at 4 Mbit/s, five at a time; once
    every broadcast has ended (the grace passed) and its media were released, the daemon's
    RSS is within a bound of its RSS after the first one. Before, every stream that had ever
    broadcast kept its last window in memory (~1.5 MB each here); later, a released window
    waited in reference cycles for the collector's oldest generation (+12 to +46 MiB here,
    depending on when it ran), so the trim after a release gave back nothing."""
    ffmpeg = require_tool("ffmpeg")
    config = ("[streams]\nreconnect_grace_sec = 1\n[hls]\nended_retention_sec = 0\n"
              "[transcode]\nenabled = false\n[api]\nwrites_per_minute_per_user = 100000\n")
    shape = Shape((640, 360), fps=30, audio=False, video_kbps=4000)
    with DaemonProcess(extra_config=config) as daemon:
        token = sign_in(daemon)
        assert daemon.proc is not None
        released = 0

        def broadcast(count: int) -> None:
            nonlocal released
            publishers = []
            for _ in range(count):
                status, stream = call(daemon, "POST", "/api/streams", token,
                                      {"title": "Short show"})
                assert status == 201, stream
                status, key = call(daemon, "POST",
                                   f"/api/streams/{stream['id']}/keys/primary/reveal", token)
                assert status == 200, key
                publishers.append(publish_shape(ffmpeg, key["rtmpUrl"], shape, 3))
            for publisher in publishers:
                assert publisher.wait(timeout=30) == 0
            released += count
            daemon.wait_for_log("packaging released", timeout=30, after=released - 1)

        broadcast(1)
        time.sleep(TRIM_AFTER_SEC + 0.5)
        after_one = rss_kib(daemon.proc.pid)
        for _ in range(10):
            broadcast(5)
        time.sleep(TRIM_AFTER_SEC + 0.5)  # released memory is handed back a moment later
        after_fifty = rss_kib(daemon.proc.pid)
    grown_mib = (after_fifty - after_one) / 1024
    print(f"\nRSS after one stream {after_one / 1024:.0f} MiB, after fifty "
          f"{after_fifty / 1024:.0f} MiB (+{grown_mib:.1f})")
    # A stream's last window here is ~1.5 MB: the bound catches a leak of a fifth of it per
    # stream. Measured: +0.5 MiB once the cycles are collected before the trim.
    assert grown_mib < 16, f"RSS grew {grown_mib:.1f} MiB over 50 streams that came and went"
