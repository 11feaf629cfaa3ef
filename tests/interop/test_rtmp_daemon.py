"""`mediad serve` as streamers meet it: the ffmpeg CLI publishes to the banner's OBS URL
with the banner's key, and the daemon logs the publisher in and out."""

from __future__ import annotations

import subprocess

import pytest

from mediad.testing import DaemonProcess
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def test_ffmpeg_publishes_to_the_daemon_with_the_banner_key() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:
        banner = daemon.banner
        url = f"{banner.rtmp_server}/{banner.primary_key}".replace("localhost", "127.0.0.1")
        publish = subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
             "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
             "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
             "-c:a", "aac", "-f", "flv", url],
            capture_output=True, text=True, timeout=60)
        assert publish.returncode == 0, publish.stderr
        daemon.wait_for_log("publisher attached")
        detached = daemon.wait_for_log("publisher detached")
        assert "unpublished" in detached or "closed by peer" in detached, detached
        daemon.wait_for_log("rtmp connection closed")

        refused = subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
             "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
             "-c:v", "libx264", "-f", "flv", daemon.rtmp_url("wrong-key")],
            capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0
        daemon.wait_for_log("publish refused: unknown stream key")
        log_lines = "\n".join(daemon.stderr_lines)
        assert banner.primary_key not in log_lines, "a stream key leaked into the logs"
