"""The web player's replays end to end in Debian's headless Chromium (playwright-core): a real
ffmpeg RTMP publish of about 8 s through a real mediad that records it, the broadcast ended
through the API; then discovery lists it under "Recent replays", its card opens the replay
page, and hls.js plays the recording from its start over its whole duration, and on from a
seek to its middle (``player-web/e2e/replay.mjs``). The screenshot lands in ``test-results/``."""

from __future__ import annotations

import os
import subprocess

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import sign_in
from tests.interop.player_e2e_testing import (
    PLAYER_WEB,
    RESULTS,
    as_text,
    e2e_peers,
    last_json_line,
)
from tests.interop.recording_testing import PASSTHROUGH, record_broadcast

pytestmark = pytest.mark.interop

SCRIPT = PLAYER_WEB / "e2e" / "replay.mjs"
PUBLISH_SECONDS = 8.0
SCRIPT_TIMEOUT = 90.0


def test_a_recorded_broadcast_is_listed_and_plays_on_the_replay_page() -> None:
    node, chromium, ffmpeg = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    for stale in ("replay-page.png", "failure-replay.png"):
        (RESULTS / stale).unlink(missing_ok=True)
    with DaemonProcess(extra_config=PASSTHROUGH) as daemon:
        stream = daemon.banner.stream_id
        recording, _ = record_broadcast(daemon, ffmpeg, sign_in(daemon), PUBLISH_SECONDS)
        assert recording["durationSec"] > PUBLISH_SECONDS / 2, recording
        command = [node, str(SCRIPT), "--base", daemon.base_url, "--stream", stream,
                   "--out", str(RESULTS)]
        try:
            run = subprocess.run(command, cwd=PLAYER_WEB, env={"CHROMIUM": chromium, **os.environ},
                                 capture_output=True, text=True, timeout=SCRIPT_TIMEOUT,
                                 check=False)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the e2e script ran past {SCRIPT_TIMEOUT:.0f} s\n"
                        f"stdout:\n{as_text(exc.stdout)}\nstderr:\n{as_text(exc.stderr)}\n"
                        f"mediad:\n{daemon.logs[-4000:]}")
        report = last_json_line(run.stdout)
        output = (f"stdout:\n{run.stdout[-4000:]}\nstderr:\n{run.stderr[-4000:]}\n"
                  f"mediad:\n{daemon.logs[-4000:]}")
        assert run.returncode == 0, f"the e2e script failed ({run.returncode})\n{output}"
        assert report is not None and report.get("ok") is True, output
    assert report["recording"]["id"] == recording["id"], output
    assert report["mediaDurationSec"] == pytest.approx(recording["durationSec"], abs=1.0)
    assert report["seekedTo"] == pytest.approx(report["mediaDurationSec"] / 2, abs=1.5)
    steps = ", ".join(f"{s['name'].split(':')[0]} {s['ms']} ms" for s in report["steps"])
    print(f"\nplayer-web replay e2e: recording {recording['durationSec']:.2f} s, media "
          f"{report['mediaDurationSec']:.2f} s, seeked to {report['seekedTo']:.2f} s; "
          f"steps {steps}")
    assert (RESULTS / "replay-page.png").is_file()
