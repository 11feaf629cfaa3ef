"""ffprobe and ffmpeg (libavformat's HLS demuxer, a reader we did not write) read our LL-HLS
while ffmpeg publishes over RTMP; a reconnecting publisher continues the same playlist."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request

import pytest

from mediad.testing import DaemonProcess
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=15) as response:
        return str(response.read().decode())


def test_ffprobe_and_ffmpeg_read_and_decode_our_llhls() -> None:
    ffmpeg, ffprobe = require_tool("ffmpeg"), require_tool("ffprobe")
    with DaemonProcess() as daemon:
        publisher = publish(ffmpeg, daemon.rtmp_url(), 25)
        try:
            daemon.wait_for_log("publisher attached")
            url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
            fetch(url)  # blocks until the first segment is ready
            probe = subprocess.run(
                [ffprobe, "-v", "error", "-show_entries",
                 "stream=codec_name,width,height,sample_rate", "-of", "json", url],
                capture_output=True, text=True, timeout=60)
            assert probe.returncode == 0, probe.stderr
            streams = {s["codec_name"]: s for s in json.loads(probe.stdout)["streams"]}
            assert streams["h264"]["width"] == 640 and streams["h264"]["height"] == 360
            assert streams["aac"]["sample_rate"] == "48000"

            decode = subprocess.run(
                [ffmpeg, "-hide_banner", "-v", "error", "-nostdin", "-live_start_index", "0",
                 "-i", url, "-t", "10", "-map", "0:v", "-map", "0:a", "-f", "null", "-",
                 "-progress", "pipe:1"],
                capture_output=True, text=True, timeout=90)
            assert decode.returncode == 0, decode.stderr
            assert decode.stderr.strip() == "", f"decode errors:\n{decode.stderr}"
            frames = [int(m) for m in re.findall(r"^frame=(\d+)$", decode.stdout, re.M)]
            assert frames and frames[-1] >= 10 * 30 - 2, frames[-1:]
        finally:
            publisher.kill()
            publisher.wait()


def test_reconnecting_publisher_continues_the_playlist() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config="[streams]\nreconnect_grace_sec = 3.0\n") as daemon:
        first = publish(ffmpeg, daemon.rtmp_url(), 3)
        daemon.wait_for_log("publisher attached")
        url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
        media = url.rsplit("/", 1)[0] + "/" + fetch(url).strip().splitlines()[-1]
        assert first.wait(timeout=30) == 0
        before = fetch(media)
        second = publish(ffmpeg, daemon.rtmp_url(), 3)
        assert second.wait(timeout=30) == 0
        time.sleep(0.5)
        after = fetch(media)
        assert after.startswith(before.split("#EXT-X-PRELOAD-HINT")[0].split("#EXT-X-PART")[0])
        assert "#EXT-X-DISCONTINUITY\n" in after and "#EXT-X-ENDLIST" not in after
        assert after.count("#EXT-X-MAP") == 1, "same encoder settings, same init section"
        daemon.wait_for_log("packaging ended", timeout=10)
        ended = fetch(media)
        assert ended.rstrip().endswith("#EXT-X-ENDLIST")
        assert "#EXT-X-PRELOAD-HINT" not in ended
