"""`mediad serve` as an SRT streamer meets it: the ffmpeg CLI (libsrt) publishes to the
banner's SRT URL (stream id and passphrase included) and viewers get LL-HLS from it."""

from __future__ import annotations

import subprocess
import urllib.request

import pytest

from mediad.testing import DaemonProcess
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def test_ffmpeg_publishes_to_the_banner_srt_url_and_hls_plays_it() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        url = daemon.banner.srt_url.replace("localhost", "127.0.0.1")
        assert "passphrase=" in url and "streamid=" in url
        publisher = subprocess.Popen(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
             "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "8",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
             "-f", "mpegts", url], stdin=subprocess.DEVNULL)
        try:
            daemon.wait_for_log("srt publisher connected")
            daemon.wait_for_log("publisher attached")
            with urllib.request.urlopen(daemon.banner.hls_url, timeout=15) as response:
                playlist = response.read().decode()
            assert "#EXT-X-STREAM-INF" in playlist and "RESOLUTION=320x240" in playlist
            assert publisher.wait(timeout=60) == 0
            daemon.wait_for_log("srt connection closed")
        finally:
            publisher.kill()
            publisher.wait()
        log_lines = "\n".join(daemon.stderr_lines)
        assert daemon.banner.primary_key not in log_lines
        assert daemon.banner.srt_passphrase not in log_lines
