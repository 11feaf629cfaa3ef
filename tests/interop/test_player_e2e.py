"""The player in Debian's headless Chromium (playwright-core), against a real mediad and a
real ffmpeg RTMP publish, through the publisher's changes: on a phone screen through an
encoder's reconnect (the publisher stopped, started again, stopped for good past the
grace); renditions that come and go; and Real-time playback over WHEP, the switch to
LL-HLS and back, and the fallback to LL-HLS when WHEP cannot serve the stream. (The viewer's
and the creator's journey, in three engines, is test_browsers.py.) The screenshots land in
``test-results/`` as CI artifacts."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.interop.player_e2e_testing import PLAYER_WEB, RESULTS, ScriptRun, e2e_peers
from tests.interop.player_e2e_testing import drive as run_script
from tests.interop.shaped_publisher_testing import LadderRung, Shape, daemon_config, publish_shape
from tests.interop.shaped_publisher_testing import stop as stop_publishers

pytestmark = pytest.mark.interop

RECONNECT_SCRIPT = PLAYER_WEB / "e2e" / "reconnect.mjs"
RENDITIONS_SCRIPT = PLAYER_WEB / "e2e" / "renditions.mjs"
REALTIME_SCRIPT = PLAYER_WEB / "e2e" / "realtime.mjs"
REALTIME_SCREENSHOTS = ("realtime.png", "realtime-llhls.png", "realtime-again.png",
                        "realtime-fallback.png")
RECONNECT_GRACE_SEC = 15
SCRIPT_TIMEOUT = 150.0


def drive(node: str, chromium: str, script_path: Path, daemon: DaemonProcess,
          actions: dict[str, Callable[[], None]]) -> ScriptRun:
    """Runs an e2e script against the daemon's stream; ``actions`` make the changes it asks for."""
    args = ["--base", daemon.base_url, "--stream", daemon.banner.stream_id, "--out", str(RESULTS)]
    return run_script(node, script_path, args, actions, {"CHROMIUM": chromium}, SCRIPT_TIMEOUT)


def outcome(run: ScriptRun, daemon: DaemonProcess) -> str:
    return (f"stdout:\n{run.out[-4000:]}\nstderr:\n{run.errors[-4000:]}\n"
            f"mediad:\n{daemon.logs[-6000:]}")


def test_the_player_rides_out_a_reconnect_on_a_phone_screen() -> None:
    """The publisher is a real ffmpeg run, stopped by killing it."""
    node, chromium, ffmpeg = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    for stale in ("reconnecting.png", "failure-reconnect.png"):
        (RESULTS / stale).unlink(missing_ok=True)
    # One small rung beside the 640x360 source: the quality menu has two entries to fit.
    config = (f"[streams]\nreconnect_grace_sec = {RECONNECT_GRACE_SEC}\n"
              '[transcode]\nenabled = true\n[[transcode.ladder]]\nname = "240p"\n'
              "height = 240\nbitrate_kbps = 300\n")
    with DaemonProcess(extra_config=config) as daemon:
        url = daemon.rtmp_url(daemon.banner.primary_key)
        publishers = [publish(ffmpeg, url, 300)]

        def stop() -> None:
            stop_publishers(*publishers)

        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            run = drive(node, chromium, RECONNECT_SCRIPT, daemon, {
                "stop-publisher": stop,
                "start-publisher": lambda: publishers.append(publish(ffmpeg, url, 300))})
        finally:
            stop()
        output = outcome(run, daemon)
        assert run.returncode == 0, f"the script failed ({run.returncode})\n{output}"
        report = run.report
        assert report is not None and report.get("ok") is True, output
        assert "stream ended: no publisher within the reconnect grace" in daemon.logs, output
    steps = ", ".join(f"{s['name'].split(':')[0]} {s['ms']} ms" for s in report["steps"])
    print(f"\nplayer-web reconnect e2e: steps {steps}")


def test_the_player_follows_renditions_that_come_and_go() -> None:
    """The viewer plays the 240p rung; the encoder reconnects at 320x180 (the rung ends and
    leaves the multivariant playlist), then at 640x360 (the rung is back)."""
    node, chromium, ffmpeg = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "failure-renditions.png").unlink(missing_ok=True)
    config = daemon_config([LadderRung("240p", 240, 300)], grace_sec=20)
    large, small = Shape((640, 360), fps=30), Shape((320, 180), fps=30)
    with DaemonProcess(extra_config=config) as daemon:
        url = daemon.rtmp_url(daemon.banner.primary_key)
        publishers = [publish_shape(ffmpeg, url, large, 300)]

        def swap(shape: Shape) -> Callable[[], None]:
            def change() -> None:
                stop_publishers(*publishers)
                attached = len(re.findall("publisher attached", daemon.logs))
                publishers.append(publish_shape(ffmpeg, url, shape, 300))
                daemon.wait_for_log("publisher attached", timeout=20, after=attached)
            return change

        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            run = drive(node, chromium, RENDITIONS_SCRIPT, daemon, {
                "smaller-publisher": swap(small), "larger-publisher": swap(large)})
        finally:
            stop_publishers(*publishers)
        output = outcome(run, daemon)
        assert run.returncode == 0, f"the script failed ({run.returncode})\n{output}"
        report = run.report
        assert report is not None and report.get("ok") is True, output
    print(f"\nplayer-web renditions e2e: longest stalls per step {report['stallsMs']} ms")


def publish_with_bframes(ffmpeg: str, url: str, seconds: float) -> subprocess.Popen[bytes]:
    """An encoder left at x264's B-frames (2 between references; not zerolatency), at the
    shape of ``publish``: a source WebRTC playback cannot carry as it is."""
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2",
         "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url],
        stdin=subprocess.DEVNULL)


def test_the_player_plays_in_real_time_switches_and_falls_back() -> None:
    """The creator turns on Real-time playback; the watch page plays over WHEP, the viewer
    switches to LL-HLS (the WHEP session is DELETEd) and back; then the encoder restarts
    with B-frames, which a daemon that does not transcode cannot play over WebRTC: WHEP
    answers 409 and a fresh watch page falls back to LL-HLS by itself."""
    node, chromium, ffmpeg = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    for stale in (*REALTIME_SCREENSHOTS, "failure-realtime.png"):
        (RESULTS / stale).unlink(missing_ok=True)
    with DaemonProcess(extra_config=daemon_config(None)) as daemon:
        stream_id = daemon.banner.stream_id
        url = daemon.rtmp_url(daemon.banner.primary_key)
        publishers = [publish_shape(ffmpeg, url, Shape((640, 360), fps=30), 120)]

        def whep_log(pattern: str, after: int = 0) -> Callable[[], None]:
            def seen() -> None:
                daemon.wait_for_log(pattern, timeout=10, after=after)
            return seen

        def restart_with_bframes() -> None:
            stop_publishers(*publishers)
            attached = len(re.findall("publisher attached", daemon.logs))
            publishers.append(publish_with_bframes(ffmpeg, url, 120))
            daemon.wait_for_log("publisher attached", timeout=20, after=attached)

        try:
            token = sign_in(daemon)
            status, settings = call(daemon, "PATCH", f"/api/streams/{stream_id}/settings",
                                    token, {"realtimePlayback": True})
            assert status == 200 and settings["realtimePlayback"] is True, settings
            status, detail = call(daemon, "GET", f"/api/streams/{stream_id}")
            assert status == 200 and detail["realtimePlayback"] is True, detail
            assert detail.get("whepUrl"), detail
            daemon.wait_for_log("publisher attached", timeout=20)
            run = drive(node, chromium, REALTIME_SCRIPT, daemon, {
                "whep-viewer-connected": whep_log("whep viewer connected"),
                "whep-session-closed": whep_log("webrtc session closed .*kind=whep"),
                "whep-viewer-connected-again": whep_log("whep viewer connected", after=1),
                "bframes-publisher": restart_with_bframes})
        finally:
            stop_publishers(*publishers)
        output = outcome(run, daemon)
        assert run.returncode == 0, f"the script failed ({run.returncode})\n{output}"
        report = run.report
        assert report is not None and report.get("ok") is True, output
        answers = [(r["method"], r["status"]) for r in report["whep"]]
        assert [method for method, _ in answers[:3]] == ["POST", "DELETE", "POST"], output
        assert answers[0][1] == answers[2][1] == 201 and answers[-1] == ("POST", 409), output
        # The switch ended the first session with its DELETE: the player sends it before it
        # closes its peer connection (closed first, the daemon would end the session on
        # seeing the connection go, and the DELETE would find none).
        session = report["whep"][1]["path"].rsplit("/", 1)[-1]
        closed = daemon.wait_for_log(f"webrtc session closed .*session={re.escape(session)} "
                                     r"kind=whep .*reason=ended by the viewer \(DELETE\)")
        assert answers[1][1] == 200, output
    steps = ", ".join(f"{s['name'].split(':')[0]} {s['ms']} ms" for s in report["steps"])
    print(f"\nplayer-web real-time e2e: steps {steps}; WHEP {answers}; "
          f"latency readouts {report['latency']}; the switch's close: "
          f"{closed.rsplit('reason=', 1)[-1]}")
    assert all((RESULTS / name).is_file() for name in REALTIME_SCREENSHOTS)
