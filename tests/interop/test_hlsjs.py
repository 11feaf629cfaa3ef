"""hls.js (from npm, lowLatencyMode) plays our LL-HLS in Debian's headless Chromium, driven by
playwright-core: playback advances, nothing fatal, latency printed; it plays on through
a publisher's reconnect, and it plays VP9."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mediad.testing import DaemonProcess
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

PLAYER = Path(__file__).resolve().parent / "hlsjs" / "play.mjs"


def start_player(url: str, seconds: float, *extra: str) -> subprocess.Popen[str]:
    node = require_tool("node")
    require_tool("chromium")
    if not (PLAYER.parent / "node_modules" / "hls.js").exists():
        pytest.fail("tests/interop/hlsjs/node_modules is missing: run `make test-deps`")
    return subprocess.Popen([node, str(PLAYER), url, "--seconds", str(seconds), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_player(player: subprocess.Popen[str]) -> None:
    """Ends a player that a failed test left running (Chromium exits with its pipe)."""
    if player.poll() is None:
        player.kill()
        player.communicate()


def finish(player: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        out, err = player.communicate(timeout=timeout)
    finally:
        stop_player(player)
    assert player.returncode == 0, err[-3000:]
    report: dict[str, Any] = json.loads(out)
    assert report["started"], f"playback never started; errors {report['errors']}"
    assert not report["fatalErrors"], report["errors"]
    assert not report["pageErrors"], report["pageErrors"]
    return report


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=15) as response:
        return str(response.read().decode())


def media_playlist_url(multivariant_url: str) -> str:
    """The first media playlist the multivariant playlist lists (the video rendition)."""
    uri = next(line for line in fetch(multivariant_url).splitlines()
               if line and not line.startswith("#"))
    return urllib.parse.urljoin(multivariant_url, uri)


def longest_stall(samples: list[dict[str, Any]]) -> float:
    """Longest stretch, in seconds, over which currentTime did not advance."""
    longest, since = 0.0, None
    for before, after in itertools.pairwise(samples):
        if after["currentTime"] - before["currentTime"] < 0.05:
            since = before["t"] if since is None else since
            longest = max(longest, (after["t"] - since) / 1000)
        else:
            since = None
    return longest


def multivariant_url(daemon: DaemonProcess) -> str:
    return f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"


def play_publish(daemon: DaemonProcess, publisher: subprocess.Popen[bytes], seconds: float,
                 timeout: float, *extra: str) -> dict[str, Any]:
    """hls.js's report on ``seconds`` of what ``publisher`` sends, stopped afterwards."""
    try:
        daemon.wait_for_log("publisher attached")
        return finish(start_player(multivariant_url(daemon), seconds, *extra), timeout)
    finally:
        publisher.kill()
        publisher.wait()


def player_quality(metrics_text: str, stream_id: str) -> dict[str, float]:
    """The ``mediad_player_*`` samples of one stream (a rendition's under NAME/RENDITION)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name.startswith("mediad_player_") and \
                    sample.labels.get("stream") == stream_id:
                rendition = sample.labels.get("rendition")
                found[sample.name + (f"/{rendition}" if rendition else "")] = sample.value
    return found


def test_hlsjs_plays_low_latency_in_chromium() -> None:
    """With CMCD in request headers from a cross-origin page (the web player's setting): the
    preflight lets them through, and the daemon aggregates the session."""
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:
        publisher = publish(ffmpeg, daemon.rtmp_url(), 30)
        try:
            daemon.wait_for_log("publisher attached")
            report = finish(start_player(multivariant_url(daemon), 10, "--cmcd-headers"), 60)
            quality = player_quality(fetch(daemon.base_url + "/metrics"), daemon.banner.stream_id)
        finally:
            publisher.kill()
            publisher.wait()
    renditions = {name: v for name, v in quality.items()
                  if name.startswith("mediad_player_rendition_sessions/")}
    assert quality.get("mediad_player_sessions") == 1.0, quality
    assert list(renditions.values()) == [1.0], quality  # one player on one rendition
    assert quality.get("mediad_player_buffer_seconds", 0) > 0, quality
    samples = report["samples"]
    advanced = samples[-1]["currentTime"] - samples[0]["currentTime"]
    window = (samples[-1]["t"] - samples[0]["t"]) / 1000
    latency = report["latencyP50"]
    print(f"\nhls.js end-to-end latency p50: {latency} s (hls.latency "
          f"{samples[-1]['hlsLatency']} s, target {samples[-1]['targetLatency']} s); "
          f"played {advanced:.2f} s in {window:.2f} s; non-fatal errors: "
          f"{[e['details'] for e in report['errors']]}")
    assert advanced >= 8.0, f"played only {advanced:.1f} s in {window:.1f} s: {samples}"
    assert latency is not None and latency < 3.0  # the benchmark holds it to 1 s


def test_hlsjs_plays_through_a_publisher_reconnect() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess() as daemon:
        first = publish(ffmpeg, daemon.rtmp_url(), 8)
        second: subprocess.Popen[bytes] | None = None
        player: subprocess.Popen[str] | None = None
        try:
            daemon.wait_for_log("publisher attached")
            url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
            player = start_player(url, 18)
            media = media_playlist_url(url)
            assert first.wait(timeout=30) == 0
            dropped_at = time.time() * 1000
            time.sleep(1.0)  # the encoder is away for a moment
            second = publish(ffmpeg, daemon.rtmp_url(), 14)
            deadline = time.monotonic() + 10
            while "#EXT-X-DISCONTINUITY\n" not in (playlist := fetch(media)):
                assert time.monotonic() < deadline, f"no discontinuity marked:\n{playlist}"
                time.sleep(0.25)
            report = finish(player, 90)
        finally:
            for proc in (first, second):
                if proc is not None:
                    proc.kill()
                    proc.wait()
            if player is not None:
                stop_player(player)
    samples = report["samples"]
    before = [s for s in samples if s["t"] <= dropped_at]
    at_drop = max((s["currentTime"] for s in before), default=0.0)
    final = samples[-1]["currentTime"]
    after = [s["latency"] for s in samples[-6:] if s["latency"] is not None]
    print(f"\nhls.js across the reconnect: currentTime {at_drop:.2f} s when the publisher "
          f"dropped, {final:.2f} s at the end; longest stall {longest_stall(samples):.2f} s; "
          f"latency {before[-1]['latency'] if before else None} s before, "
          f"{after[-1] if after else None} s after; non-fatal errors: "
          f"{[(e['details'], e['url']) for e in report['errors']]}")
    assert final - at_drop >= 5.0, (
        f"stalled at the reconnect: {at_drop:.1f} s when the publisher dropped, "
        f"{final:.1f} s at the end; errors {report['errors']}")
    assert samples[-1]["currentTime"] - samples[-5]["currentTime"] >= 1.0, samples[-5:]
    assert not samples[-1]["paused"]


def test_hlsjs_switches_renditions_without_a_stall() -> None:
    ffmpeg = require_tool("ffmpeg")
    # Transcoding on: source 640x360 + a 240p rung (a 360p rung would copy the source).
    ladder = '[[transcode.ladder]]\nname = "240p"\nheight = 240\nbitrate_kbps = 400\n'
    with DaemonProcess(extra_config=ladder) as daemon:
        report = play_publish(daemon, publish(ffmpeg, daemon.rtmp_url(), 30), 12, 90,
                              "--switch-level-at", "4")
    assert len(report["samples"][0]["levels"]) >= 2, report["samples"][0]
    switched = report["switched"]
    assert switched is not None and switched["from"] != switched["to"]
    assert any(seen["level"] == switched["to"] for seen in report["levelsSeen"]), report
    after = [s for s in report["samples"] if s["t"] >= switched["t"]]
    advanced = after[-1]["currentTime"] - after[0]["currentTime"]
    assert advanced >= 6.0, f"stalled after the switch: {advanced:.1f} s in 8 s"
    assert after[-1]["level"] == switched["to"]


def test_hlsjs_plays_vp9_in_chromium() -> None:
    """VP9 over Enhanced RTMP is packaged as vp09/vpcC, and hls.js plays it through MSE."""
    # Transcoding off: the VP9 source is the only variant, so it is what plays.
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        publisher = subprocess.Popen(
            [sys.executable, "-m", "tests.interop.vp9_publisher_testing", daemon.rtmp_url(), "30"],
            stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])
        report = play_publish(daemon, publisher, 10, 60)
        # Still served in the reconnect grace period: what played was the VP9 variant.
        assert 'CODECS="vp09.00.' in fetch(multivariant_url(daemon))
    samples = report["samples"]
    advanced = samples[-1]["currentTime"] - samples[0]["currentTime"]
    print(f"\nhls.js VP9: played {advanced:.2f} s, latency p50 {report['latencyP50']} s")
    assert advanced >= 8.0, f"played only {advanced:.1f} s: {samples}"
