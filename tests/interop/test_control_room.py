"""The control room against a real publisher: the ffmpeg CLI streams over RTMP while the
creator, signed in through the API with the first-start password, rotates its key and
drives the preview -> live -> ended lifecycle."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def test_rotating_the_key_drops_the_live_publisher_and_refuses_the_old_key() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        token = sign_in(daemon)
        stream = daemon.banner.stream_id
        old_key = daemon.banner.primary_key
        publisher = publish(ffmpeg, daemon.rtmp_url(old_key), 60)
        try:
            daemon.wait_for_log("publisher attached")
            status, body = call(daemon, "POST", f"/api/streams/{stream}/keys/primary/rotate",
                                token)
            assert status == 200 and body["publisherDisconnected"] is True
            new_key = body["key"]
            assert new_key != old_key and body["rtmpUrl"].endswith("/" + new_key)
            assert publisher.wait(timeout=20) != 0, "ffmpeg kept publishing on a rotated key"
            daemon.wait_for_log("the primary key was rotated")
        finally:
            publisher.kill()
            publisher.wait()
        refused = subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
             "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
             "-c:v", "libx264", "-f", "flv", daemon.rtmp_url(old_key)],
            capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0
        daemon.wait_for_log("publish refused: unknown stream key")
        accepted = publish(ffmpeg, daemon.rtmp_url(new_key), 2)
        assert accepted.wait(timeout=60) == 0
        _, audit = call(daemon, "GET", f"/api/streams/{stream}/keys/audit", token)
        assert [(e["kind"], e["action"], e["actor"]) for e in audit["events"]] == [
            ("primary", "rotate", "admin")]
        log = "\n".join(daemon.stderr_lines)
        assert old_key not in log and new_key not in log, "a stream key leaked into the logs"


def test_the_creator_takes_a_real_stream_live_and_ends_it() -> None:
    ffmpeg = require_tool("ffmpeg")
    config = "[streams]\nauto_live = false\n[transcode]\nenabled = false\n"
    with DaemonProcess(extra_config=config) as daemon:
        token = sign_in(daemon)
        stream = daemon.banner.stream_id
        state = f"/api/streams/{stream}/state"
        status, body = call(daemon, "PUT", state, token, {"state": "live"})
        assert status == 409 and "publisher" in body["error"]
        publisher = publish(ffmpeg, daemon.rtmp_url(), 60)
        try:
            daemon.wait_for_log("publisher attached")
            assert call(daemon, "GET", f"/api/streams/{stream}")[1]["state"] == "preview"
            assert [s["id"] for s in call(daemon, "GET", "/api/streams")[1]["streams"]] == []
            status, body = call(daemon, "PUT", state, token, {"state": "live"})
            assert status == 200 and body["state"] == "live"
            assert [s["id"] for s in call(daemon, "GET", "/api/streams")[1]["streams"]] == [
                stream]
            index = f"{daemon.base_url}/hls/{stream}/index.m3u8"
            media = index.rsplit("/", 1)[0] + "/" + fetch(index).strip().splitlines()[-1]
            assert "#EXT-X-ENDLIST" not in fetch(media)
            status, body = call(daemon, "PUT", state, token, {"state": "ended"})
            assert status == 200 and body["state"] == "ended" and body["endedAt"]
            assert publisher.wait(timeout=20) != 0, "the publisher was not disconnected"
            daemon.wait_for_log("ended by the creator")
            assert fetch(media).rstrip().endswith("#EXT-X-ENDLIST")
            cards = call(daemon, "GET", "/api/streams")[1]["streams"]
            assert [(c["id"], c["state"]) for c in cards] == [(stream, "ended")]
        finally:
            publisher.kill()
            publisher.wait()
