"""`mediad serve` and libsrt callers we did not write: srt-live-transmit publishes to the
SRT URL exactly as the control room and the banner give it (stream id percent-encoded,
passphrase, pbkeylen); a stream id naming another application is refused like RTMP refuses
one, by ffmpeg and by srt-live-transmit, and srt-live-transmit's retries (ten a second)
make one log line, then one summary an interval."""

from __future__ import annotations

import re
import socket
import subprocess
import time

import pytest

from mediad.testing import DaemonProcess, free_port
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def relay(slt: str, udp_port: int, url: str) -> subprocess.Popen[bytes]:
    """srt-live-transmit from MPEG-TS on a UDP port to ``url``, retrying as it does."""
    return subprocess.Popen([slt, "-q", f"udp://127.0.0.1:{udp_port}", url],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def feed(ffmpeg: str, udp_port: int, seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-f", "mpegts",
         f"udp://127.0.0.1:{udp_port}?pkt_size=1316"], stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_srt_live_transmit_publishes_to_the_url_as_given() -> None:
    ffmpeg, slt = require_tool("ffmpeg"), require_tool("srt-live-transmit")
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        url = daemon.banner.srt_url.replace("localhost", "127.0.0.1")
        assert "streamid=%23%21%3A%3Ar%3Dlive%2F" in url and "&pbkeylen=16" in url
        udp = free_port(socket.SOCK_DGRAM)
        publisher = relay(slt, udp, url)
        source = feed(ffmpeg, udp, 6)
        try:
            daemon.wait_for_log("srt publisher connected", timeout=20)
            daemon.wait_for_log("publisher attached")
        finally:
            stop(source)
            stop(publisher)


def test_a_wrong_application_is_refused_and_retries_are_summed_up() -> None:
    ffmpeg, slt = require_tool("ffmpeg"), require_tool("srt-live-transmit")
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        url = daemon.banner.srt_url.replace("localhost", "127.0.0.1")
        wrong = url.replace("r%3Dlive%2F", "r%3Dvod%2F")
        assert wrong != url
        refused = subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
             "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
             "-c:v", "libx264", "-f", "mpegts", wrong],
            capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0
        daemon.wait_for_log(r"srt publish refused.*unknown application 'vod'")

        udp = free_port(socket.SOCK_DGRAM)
        publisher = relay(slt, udp, wrong)
        started = time.monotonic()
        try:
            # The daemon's interval is 10 s: within it, srt-live-transmit's retries are only
            # counted; then one line says how many there were.
            summary = daemon.wait_for_log(r"more refusals from 127\.0\.0\.1 in the last", 25)
            elapsed = time.monotonic() - started
        finally:
            stop(publisher)
        count = int(re.search(r"(\d+) more refusals", summary).group(1))  # type: ignore[union-attr]
        assert count >= 5, summary  # it did retry, many times
        lines = [line for line in daemon.stderr_lines if "mediad.srt" in line
                 and ("refus" in line)]
        # ffmpeg's refusal and the relay's first: two lines; then at most one a 10 s interval.
        assert len(lines) <= 2 + 1 + int(elapsed // 10), lines
        print(f"\n{len(lines)} refusal lines in {elapsed:.1f} s: {summary}")
        assert daemon.banner.primary_key not in "\n".join(daemon.stderr_lines)
