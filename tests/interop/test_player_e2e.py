"""The web app end to end in Debian's headless Chromium (playwright-core), against a real
mediad and a real ffmpeg RTMP publish: discovery, playback, chat between two viewers, a
signed tip, and the creator's control room (key rotation, slow mode, ending the stream);
and the player on a phone screen through an encoder's reconnect (the publisher stopped,
started again, stopped for good past the grace); and Real-time playback over WHEP, the
switch to LL-HLS and back, and the fallback to LL-HLS when WHEP cannot serve the stream.
The screenshots land in ``test-results/`` as CI artifacts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.interop.player_e2e_testing import (
    PLAYER_WEB,
    RESULTS,
    as_text,
    e2e_peers,
    last_json_line,
)
from tests.interop.shaped_publisher_testing import LadderRung, Shape, daemon_config, publish_shape
from tests.interop.shaped_publisher_testing import stop as stop_publishers

pytestmark = pytest.mark.interop

SCRIPT = PLAYER_WEB / "e2e" / "watch-and-control.mjs"
RECONNECT_SCRIPT = PLAYER_WEB / "e2e" / "reconnect.mjs"
RENDITIONS_SCRIPT = PLAYER_WEB / "e2e" / "renditions.mjs"
REALTIME_SCRIPT = PLAYER_WEB / "e2e" / "realtime.mjs"
REALTIME_SCREENSHOTS = ("realtime.png", "realtime-llhls.png", "realtime-again.png",
                        "realtime-fallback.png")
RECONNECT_GRACE_SEC = 15
WEBHOOK_SECRET = "e2e-webhook-secret"
SCRIPT_TIMEOUT = 150.0
SCREENSHOTS = ("watch-page.png", "control-room.png")


class QualityWatch:
    """Scrapes the daemon's ``/metrics`` (readable from 127.0.0.1 by default) while the
    script runs: what it reported of the stream's players (CMCD and the player's reports),
    scrape by scrape, until ``stop``."""

    def __init__(self, daemon: DaemonProcess, stream_id: str) -> None:
        self.url = daemon.base_url + "/metrics"
        self.stream_id = stream_id
        self.scrapes: list[dict[str, float]] = []
        self.errors: list[str] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(0.25):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    text = response.read().decode()
            except OSError as exc:
                self.errors.append(str(exc))
                continue
            seen: dict[str, float] = {}
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name.startswith("mediad_player_") and \
                            sample.labels.get("stream") == self.stream_id:
                        rendition = sample.labels.get("rendition")
                        seen[sample.name + (f"/{rendition}" if rendition else "")] = sample.value
            if seen:
                self.scrapes.append(seen)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def check(self) -> str:
        """What went wrong, "" when the daemon aggregated viewer A's session: once, while A
        alone played, one session playing ``source`` (the URLs' rendition, from its CMCD;
        its reports under the same session id, or it would count two), with a buffer."""
        alone = [s for s in self.scrapes if s.get("mediad_player_sessions") == 1.0
                 and s.get("mediad_player_rendition_sessions/source") == 1.0
                 and "mediad_player_buffer_seconds" in s]
        if alone:
            return ""
        return (f"no scrape showed one player session on source with a buffer; "
                f"{len(self.scrapes)} scrapes with player series, the last: "
                f"{self.scrapes[-3:]}, errors: {self.errors[-3:]}")


def test_a_viewer_watches_chats_and_sees_the_creator_run_the_stream() -> None:
    node, chromium, ffmpeg = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    for stale in RESULTS.glob("*.png"):  # the artifacts must be this run's
        if stale.name in SCREENSHOTS or stale.name.startswith("failure-"):
            stale.unlink()
    config = f'[tips]\nwebhook_secret = "{WEBHOOK_SECRET}"\n[transcode]\nenabled = false\n'
    with DaemonProcess(extra_config=config) as daemon:
        banner = daemon.banner
        # On the backup key: the script rotates the primary one, which would disconnect a
        # publisher using it and end the stream before the creator gets to end it.
        publisher = publish(ffmpeg, daemon.rtmp_url(banner.backup_key), 120)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            command = [node, str(SCRIPT), "--base", daemon.base_url,
                       "--stream", banner.stream_id, "--admin-password", banner.admin_password,
                       "--webhook-secret", WEBHOOK_SECRET, "--out", str(RESULTS)]
            env = {"CHROMIUM": chromium, **os.environ}
            quality = QualityWatch(daemon, banner.stream_id)
            try:
                run = subprocess.run(command, cwd=PLAYER_WEB, env=env, capture_output=True,
                                     text=True, timeout=SCRIPT_TIMEOUT, check=False)
            except subprocess.TimeoutExpired as exc:
                pytest.fail(f"the e2e script ran past {SCRIPT_TIMEOUT:.0f} s\n"
                            f"stdout:\n{as_text(exc.stdout)}\nstderr:\n{as_text(exc.stderr)}\n"
                            f"mediad:\n{daemon.logs[-4000:]}")
            finally:
                quality.stop()
        finally:
            publisher.kill()
            publisher.wait()
        report = last_json_line(run.stdout)
        output = (f"stdout:\n{run.stdout[-4000:]}\nstderr:\n{run.stderr[-4000:]}\n"
                  f"mediad:\n{daemon.logs[-4000:]}")
        assert run.returncode == 0, f"the e2e script failed ({run.returncode})\n{output}"
        assert report is not None and report.get("ok") is True, output
        # The player sent CMCD in its requests' headers, never in a URL (an edge caches by
        # URL), and with its reports it reached the daemon's player quality.
        assert report["cmcd"]["inHeaders"] > 0 and report["cmcd"]["inUrl"] == 0, report["cmcd"]
        assert quality.check() == "", quality.check()
    steps = ", ".join(f"{s['name'].split(':')[0]} {s['ms']} ms" for s in report["steps"])
    print(f"\nplayer-web e2e: time to first frame {report['ttffMs']} ms; steps {steps}; "
          f"screenshots in {RESULTS}")
    assert all((RESULTS / name).is_file() for name in SCREENSHOTS)


@dataclass
class ScriptRun:
    returncode: int | None
    out: str
    errors: str

    @property
    def report(self) -> dict[str, Any] | None:
        return last_json_line(self.out)


def drive(node: str, chromium: str, script_path: Path, daemon: DaemonProcess,
          actions: dict[str, Callable[[], None]]) -> ScriptRun:
    """Runs an e2e script that asks for publisher changes (one JSON line {"wait": NAME} each)
    and waits for "done" on its stdin: ``actions[NAME]`` does it."""
    command = [node, str(script_path), "--base", daemon.base_url,
               "--stream", daemon.banner.stream_id, "--out", str(RESULTS)]
    lines: list[str] = []
    with tempfile.TemporaryFile("w+") as stderr:
        script = subprocess.Popen(command, cwd=PLAYER_WEB, env={"CHROMIUM": chromium,
                                  **os.environ}, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=stderr, text=True)
        watchdog = threading.Timer(SCRIPT_TIMEOUT, script.kill)
        watchdog.start()
        try:
            assert script.stdout is not None and script.stdin is not None
            for line in script.stdout:
                lines.append(line)
                wanted = json.loads(line).get("wait") if line.startswith("{") else None
                if wanted is not None:
                    actions[wanted]()
                    script.stdin.write("done\n")
                    script.stdin.flush()
            script.wait(timeout=10)
        finally:
            watchdog.cancel()
            script.kill()
        stderr.seek(0)
        return ScriptRun(script.returncode, "".join(lines), stderr.read())


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
