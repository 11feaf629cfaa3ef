"""A publisher whose input ended but whose connection lives on: srt-live-transmit relaying a
UDP feed keeps its SRT connection open with keepalives after ffmpeg stops sending to it. The
daemon drops it after ``streams.media_timeout_sec`` without media, like a disconnect: one
warning, the connection closed, the stream waiting for a reconnect rather than live with a
frozen playlist."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from mediad.testing import DaemonProcess, free_port
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def test_an_srt_relay_whose_input_ended_is_dropped_after_the_media_timeout() -> None:
    ffmpeg, slt = require_tool("ffmpeg"), require_tool("srt-live-transmit")
    config = "[streams]\nmedia_timeout_sec = 2.0\n[transcode]\nenabled = false\n"
    with DaemonProcess(extra_config=config) as daemon:
        banner = daemon.banner
        udp = free_port(socket.SOCK_DGRAM)
        # srt-live-transmit takes the stream id as it is (ffmpeg would percent-decode it).
        target = (f"srt://127.0.0.1:{daemon.srt_port}?streamid=#!::r=live/{banner.primary_key},"
                  f"m=publish&passphrase={banner.srt_passphrase}&pbkeylen=16")
        relay = subprocess.Popen([slt, "-q", "-a:no", f"udp://127.0.0.1:{udp}", target],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            feed = subprocess.run(
                [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
                 "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                 "-f", "mpegts", f"udp://127.0.0.1:{udp}?pkt_size=1316"],
                capture_output=True, text=True, timeout=60)
            assert feed.returncode == 0, feed.stderr
            ended = time.monotonic()
            daemon.wait_for_log("publisher attached")
            warning = daemon.wait_for_log("publisher sent no media", timeout=10)
            dropped = time.monotonic() - ended
            assert " warning " in warning and "role=active" in warning, warning
            closed = daemon.wait_for_log("srt connection closed", timeout=5)
            assert "no media for 2 s" in closed, closed
            daemon.wait_for_log("publisher detached .*reason=no media for 2 s")
            time.sleep(1)
            assert daemon.logs.count("publisher sent no media") == 1, daemon.logs
        finally:
            relay.kill()
            relay.wait()
    print(f"\nmedia timeout: the relay's input ended -> dropped after {dropped:.2f} s "
          f"(streams.media_timeout_sec = 2)")
    assert 1.5 < dropped < 6.0
