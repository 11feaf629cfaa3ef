"""A recording outlives ``kill -9``: a real daemon records a real ffmpeg RTMP publish, is
killed mid-broadcast and started again on the same data directory. The recording is listed
(complete, interrupted), its VOD playlist is closed, ffmpeg plays it to its last complete
segment without a decode error and its duration is the journal's; the next broadcast is a
new recording."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.live_publisher_testing import publish
from tests.interop.recording_testing import (
    PASSTHROUGH,
    journal,
    journal_lines,
    media_playlist_urls,
    playlist,
    recordings_root,
    video_frames,
    wait_listed,
)
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

SEGMENTS_BEFORE_KILL = 3


def recording_folder(root: Path, stream: str, within: float = 20.0) -> Path:
    """The stream's one recording directory, once its source journal lists a few segments."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        folders = [p for p in (root / stream).glob("*") if p.is_dir()]
        if len(folders) == 1 and journal_lines(folders[0], "source") >= SEGMENTS_BEFORE_KILL:
            return folders[0]
        time.sleep(0.1)
    raise AssertionError(f"no recording with {SEGMENTS_BEFORE_KILL} segments under {root}")


def test_a_recording_killed_mid_broadcast_is_closed_listed_and_plays(tmp_path: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    ffprobe = require_tool("ffprobe")
    with DaemonProcess(extra_config=PASSTHROUGH, data_dir=tmp_path / "data") as daemon:
        stream = daemon.banner.stream_id
        publisher = publish(ffmpeg, daemon.rtmp_url(), 60)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            folder = recording_folder(recordings_root(daemon), stream)
            daemon.stop(signal.SIGKILL)  # mid-segment: the publisher is still sending
            complete_before = journal_lines(folder, "source")
        finally:
            publisher.kill()
            publisher.wait()
        daemon.restart()
        token = sign_in(daemon)

        listed = wait_listed(daemon, f"/api/streams/{stream}/recordings", "recordings", token,
                             lambda found: len(found) == 1 and found[0]["state"] == "complete")
        recording = listed[0]
        assert recording["id"] == folder.name
        assert recording["interrupted"] is True
        assert recording["endedAt"] is not None
        entries = journal(folder, "source")
        assert len(entries) >= complete_before  # nothing complete was lost
        journal_seconds = sum(entry.duration for entry in entries)
        assert recording["durationSec"] == pytest.approx(journal_seconds, abs=0.01)

        multivariant = daemon.base_url + recording["playbackUrl"]
        (media_url,) = media_playlist_urls(multivariant)
        media = playlist(media_url)
        assert media.playlist_type == "vod"
        assert media.is_endlist
        assert [s.uri.rsplit("/", 1)[-1] for s in media.segments] == [
            entry.file_name for entry in entries]

        decoded = subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-i", multivariant,
                                  "-f", "null", "-"], capture_output=True, text=True, timeout=60)
        assert decoded.returncode == 0 and decoded.stderr == "", decoded.stderr[-2000:]
        times = sorted(float(f["pts_time"]) for f in video_frames(ffprobe, media_url, "pts_time"))
        played = times[-1] + (times[-1] - times[-2]) - times[0]  # the last frame lasts one step
        assert played == pytest.approx(journal_seconds, abs=0.1)  # to its last segment

        again = publish(ffmpeg, daemon.rtmp_url(), 30)
        try:
            listed = wait_listed(daemon, f"/api/streams/{stream}/recordings", "recordings",
                                 token, lambda found: len(found) == 2)
            newest = listed[0]
            assert newest["id"] != recording["id"]
            assert newest["state"] == "recording"
            assert newest["interrupted"] is False
            assert listed[1]["id"] == recording["id"]
            status, body = call(daemon, "PUT", f"/api/streams/{stream}/state", token,
                                {"state": "ended"})
            assert status == 200, body
            listed = wait_listed(daemon, f"/api/streams/{stream}/recordings", "recordings",
                                 token, lambda found: found[0]["state"] == "complete")
            assert listed[0]["id"] == newest["id"]
            assert listed[0]["interrupted"] is False
        finally:
            again.kill()
            again.wait()
