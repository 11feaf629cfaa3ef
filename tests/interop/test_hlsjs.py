"""hls.js (from npm, lowLatencyMode) plays our LL-HLS in Debian's headless Chromium, driven by
playwright-core: playback advances, nothing fatal, latency printed; and it plays on through
a publisher's reconnect."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from mediad.testing import DaemonProcess
from tests.interop.live_publisher import publish
from tests.peers import require_tool

pytestmark = pytest.mark.interop

PLAYER = Path(__file__).resolve().parent / "hlsjs" / "play.mjs"


def start_player(url: str, seconds: float) -> subprocess.Popen[str]:
    node = require_tool("node")
    require_tool("chromium")
    if not (PLAYER.parent / "node_modules" / "hls.js").exists():
        pytest.fail("tests/interop/hlsjs/node_modules is missing: run `make test-deps`")
    return subprocess.Popen([node, str(PLAYER), url, "--seconds", str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(player: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, err = player.communicate(timeout=timeout)
    assert player.returncode == 0, err[-3000:]
    report: dict[str, Any] = json.loads(out)
    assert report["started"], "playback never started"
    assert not report["fatalErrors"], report["errors"]
    assert not report["pageErrors"], report["pageErrors"]
    return report


def test_hlsjs_plays_low_latency_in_chromium() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:
        publisher = publish(ffmpeg, daemon.rtmp_url(), 30)
        try:
            daemon.wait_for_log("publisher attached")
            player = start_player(daemon.banner.hls_url, 10)
            report = finish(player, 60)
        finally:
            publisher.kill()
            publisher.wait()
    samples = report["samples"]
    advanced = samples[-1]["currentTime"] - samples[0]["currentTime"]
    assert advanced >= 8.0, f"played only {advanced:.1f} s in 10 s"
    latency = report["latencyP50"]
    print(f"\nhls.js end-to-end latency p50: {latency:.3f} s "
          f"(target latency {samples[-1]['targetLatency']} s)")
    assert latency is not None and latency < 3.0  # the benchmark holds it to 1 s


def test_hlsjs_plays_through_a_publisher_reconnect() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:
        first = publish(ffmpeg, daemon.rtmp_url(), 8)
        daemon.wait_for_log("publisher attached")
        player = start_player(daemon.banner.hls_url, 18)
        assert first.wait(timeout=30) == 0
        dropped_at = time.time() * 1000
        time.sleep(1.0)  # the encoder is away for a moment
        second = publish(ffmpeg, daemon.rtmp_url(), 14)
        try:
            report = finish(player, 90)
        finally:
            second.kill()
            second.wait()
    samples = report["samples"]
    at_drop = max((s["currentTime"] for s in samples if s["t"] <= dropped_at), default=0.0)
    final = samples[-1]["currentTime"]
    assert final - at_drop >= 5.0, (
        f"stalled at the reconnect: {at_drop:.1f} s when the publisher dropped, "
        f"{final:.1f} s at the end; errors {report['errors']}")
    assert not samples[-1]["paused"]


def test_hlsjs_switches_renditions_without_a_stall() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:  # transcoding on: source 640x360 + the 360p rung
        publisher = publish(ffmpeg, daemon.rtmp_url(), 30)
        try:
            daemon.wait_for_log("publisher attached")
            node = require_tool("node")
            player = subprocess.Popen(
                [node, str(PLAYER), daemon.banner.hls_url, "--seconds", "12",
                 "--switch-level-at", "4"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            report = finish(player, 90)
        finally:
            publisher.kill()
            publisher.wait()
    assert len(report["samples"][0]["levels"]) >= 2, report["samples"][0]
    switched = report["switched"]
    assert switched is not None and switched["from"] != switched["to"]
    assert any(seen["level"] == switched["to"] for seen in report["levelsSeen"]), report
    after = [s for s in report["samples"] if s["t"] >= switched["t"]]
    advanced = after[-1]["currentTime"] - after[0]["currentTime"]
    assert advanced >= 6.0, f"stalled after the switch: {advanced:.1f} s in 8 s"
    assert after[-1]["level"] == switched["to"]
