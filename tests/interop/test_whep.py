"""WHEP playback in Chromium (its own RTCPeerConnection, a recvonly offer): an RTMP publish
(the ffmpeg CLI) and a WHIP publish (FFmpeg's WHIP muxer) are watched in real time, frames
decoded and audio received; DELETE frees the session; and playback goes on through a link
that loses 5 % of its datagrams."""

from __future__ import annotations

import subprocess

import pytest

from mediad.testing import DaemonProcess
from tests.interop.live_publisher_testing import publish
from tests.interop.webrtc_http_testing import ffmpeg_whip
from tests.interop.webrtc_peer_testing import ChromiumPeer, last
from tests.interop.webrtc_relay_testing import LossyPath, free_udp_port, webrtc_config
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

WATCH_SEC = 8


def start_publisher(daemon: DaemonProcess, ingest: str, seconds: float
                    ) -> subprocess.Popen[bytes]:
    banner = daemon.banner
    if ingest == "rtmp":
        return publish(require_tool("ffmpeg"), daemon.rtmp_url(), seconds)
    return ffmpeg_whip(f"{daemon.base_url}/whip/{banner.stream_id}", banner.primary_key,
                       seconds)


def watch(daemon: DaemonProcess, ingest: str, base_url: str) -> tuple[dict[str, object], str]:
    """A Chromium WHEP viewer (through ``base_url``) of an ``ingest`` publish for
    ``WATCH_SEC``: its last record, and the daemon's log line of the session's end."""
    publisher = start_publisher(daemon, ingest, 25)
    try:
        daemon.wait_for_log("publisher attached", timeout=20)
        viewer = ChromiumPeer("watch", f"{base_url}/whep/{daemon.banner.stream_id}",
                              WATCH_SEC).start()
        try:
            answered = viewer.answered()
            assert answered["status"] == 201, answered
            done = viewer.finish(timeout=60)
        finally:
            viewer.close()
        return done, daemon.wait_for_log("webrtc session closed .*kind=whep")
    finally:
        publisher.kill()
        publisher.wait()


def check_played(done: dict[str, object], what: str) -> None:
    """Frames were decoded all along (the count still rose in the second half) and shown,
    and audio came."""
    samples = done["samples"]
    assert isinstance(samples, list)
    half = samples[len(samples) // 2]
    decoded = last(samples, "video", "framesDecoded")
    video, audio = samples[-1].get("video", {}), samples[-1].get("audio", {})
    print(f"\n{what}: {decoded:.0f} frames decoded ({video.get('keyFramesDecoded')} key, "
          f"{video.get('frameWidth')}x{video.get('frameHeight')}, {samples[-1]['presented']} "
          f"presented, {video.get('packetsLost')} packets lost, {video.get('nackCount')} "
          f"NACKs) and {audio.get('packetsReceived')} audio packets "
          f"({audio.get('totalSamplesReceived')} samples) in {WATCH_SEC} s")
    assert samples[-1]["connectionState"] == "connected", samples[-1]
    assert video.get("codec") == "video/H264" and audio.get("codec") == "audio/opus", samples[-1]
    assert decoded > 60, samples
    assert decoded > half.get("video", {}).get("framesDecoded", 0) + 20, samples
    assert samples[-1]["presented"] > 30, samples
    assert last(samples, "audio", "packetsReceived") > 100, samples
    assert last(samples, "audio", "totalSamplesReceived") > 0, samples
    assert done["deleteStatus"] == 200, done


@pytest.mark.parametrize("ingest", ["rtmp", "whip"])
def test_chromium_plays_whep_of_a_live_stream(ingest: str) -> None:
    """An RTMP or a WHIP publish played over WHEP; the viewer's DELETE closes its session."""
    with DaemonProcess() as daemon:
        done, closed = watch(daemon, ingest, daemon.base_url)
        check_played(done, f"WHEP of {ingest.upper()}")
        assert "DELETE" in closed, closed


def test_whep_through_five_percent_loss_keeps_decoding() -> None:
    """An RTMP publish watched over WHEP through a relay that drops 5 % of the datagrams each
    way: the frames keep being decoded (NACKs and keyframes repair the rest)."""
    udp = free_udp_port()
    with DaemonProcess(extra_config=webrtc_config(udp)) as daemon, \
            LossyPath(daemon.base_url, udp, loss=0.05) as path:
        done, closed = watch(daemon, "rtmp", path.base_url)
        assert path.relay is not None
        assert path.candidates() == {f"127.0.0.1:{path.relay_port}"}, path.answers
        relay = path.relay
        print(f"\nWHEP through 5 % loss: relay forwarded {relay.forwarded}, dropped "
              f"{relay.dropped}")
        check_played(done, "WHEP of RTMP, 5 % loss")
        assert relay.forwarded > 500, "the media did not go through the relay"
        assert 0.03 < relay.dropped / (relay.dropped + relay.forwarded) < 0.07
        assert "DELETE" in closed, closed
