"""WHIP ingest against publishers we did not write: FFmpeg's own WHIP muxer (PyAV's FFmpeg 8)
and Chromium's RTCPeerConnection, watched over LL-HLS (ffprobe, hls.js); the endpoint's
refusals of bad requests; and a publish through a link that loses 5 % of its datagrams."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.hls_viewer_testing import get, listing, media, probe_url, wait_media
from tests.interop.hlsjs_watch_testing import Watch
from tests.interop.webrtc_http_testing import (
    aiortc_offer,
    error_text,
    ffmpeg_whip,
    post_offer,
    stream_state,
    wait_state,
)
from tests.interop.webrtc_peer_testing import ChromiumPeer, last
from tests.interop.webrtc_relay_testing import LossyPath, free_udp_port, webrtc_config

pytestmark = pytest.mark.interop

SEGMENT_SEC = 1.0
"""``hls.segment_duration_ms``'s default."""


def durations(url: str) -> list[float]:
    return [float(s.duration) for s in media(url).complete]


def test_ffmpeg_whip_publishes_llhls_and_a_second_publish_continues_it() -> None:
    """H.264 + Opus from FFmpeg's muxer: ffprobe reads H.264 and the ladder's AAC from the
    LL-HLS, segments are the 1 s of the encoder's GOPs, a second publish on the busy key is
    refused 409, the muxer's DELETE leaves the stream reconnecting, and a second publish
    continues the same media playlist after a discontinuity."""
    with DaemonProcess() as daemon:
        banner = daemon.banner
        whip = f"{daemon.base_url}/whip/{banner.stream_id}"
        first = ffmpeg_whip(whip, banner.primary_key, 6)
        try:
            daemon.wait_for_log("whip publisher connected", timeout=20)
            found = listing(banner.hls_url)
            video_url = found.media_url("source")
            wait_media(video_url, lambda m: len(m.complete) >= 2, "two segments")
            streams = probe_url(banner.hls_url)
            assert streams["video"]["codec_name"] == "h264", streams
            assert streams["audio"]["codec_name"] == "aac", streams
            status, _, body = post_offer(whip, aiortc_offer("H264"), banner.primary_key)
            assert status == 409, body
            assert first.wait(timeout=30) == 0
        finally:
            first.kill()
        daemon.wait_for_log("publisher detached .*reason=ended by the publisher \\(DELETE\\)")
        wait_state(daemon, "reconnecting")
        before = media(video_url)
        whole = [float(s.duration) for s in before.complete][:-1]  # the last ends early
        print(f"\nFFmpeg WHIP, keyint 1 s: segments {whole}")
        assert len(whole) >= 3, before.text
        assert all(abs(d - SEGMENT_SEC) <= 0.1 for d in whole), before.text

        second = ffmpeg_whip(whip, banner.primary_key, 4)
        try:
            daemon.wait_for_log("whip publisher connected", timeout=20, after=1)
            wait_state(daemon, "live")
            after = wait_media(
                video_url, lambda m: m.discontinuity and m.last_msn >= before.last_msn + 2,
                "two segments of the second publish after a discontinuity", within=15)
            assert second.wait(timeout=30) == 0
        finally:
            second.kill()
        assert after.parsed.media_sequence == before.parsed.media_sequence, after.text
        daemon.wait_for_log("publisher detached", after=1)
        wait_state(daemon, "reconnecting")


def test_whip_refuses_bad_requests_with_their_status() -> None:
    """No token 401, a wrong key 403, another stream's key 403, a body that is not
    application/sdp 415, and an offer with only VP8 video 400 with the reason; none of them
    attaches a publisher."""
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        banner = daemon.banner
        token = sign_in(daemon)
        status, other = call(daemon, "POST", "/api/streams", token, {"title": "Other show"})
        assert status == 201, other
        status, other_key = call(daemon, "POST",
                                 f"/api/streams/{other['id']}/keys/primary/reveal", token)
        assert status == 200, other_key
        whip = f"{daemon.base_url}/whip/{banner.stream_id}"
        h264, vp8 = aiortc_offer("H264"), aiortc_offer("VP8")

        status, headers, body = post_offer(whip, h264)
        assert status == 401, body
        assert headers.get("WWW-Authenticate", "").startswith("Bearer"), headers
        status, _, body = post_offer(whip, h264, "not-a-key-of-anything")
        assert status == 403, body
        status, _, body = post_offer(whip, h264, str(other_key["key"]))
        assert status == 403, body
        status, _, body = post_offer(whip, h264, banner.primary_key, "text/plain")
        assert status == 415, body
        status, _, body = post_offer(whip, vp8, banner.primary_key)
        assert status == 400, body
        reason = error_text(body)
        print(f"\nVP8-only offer: 400 {reason!r}")
        assert "H.264" in reason and "vp8" in reason.lower(), reason

        time.sleep(0.5)
        assert "publisher attached" not in daemon.logs, daemon.logs
        assert stream_state(daemon) not in ("live", "reconnecting")


@dataclass
class Published:
    """A Chromium WHIP publish watched in hls.js."""

    video_url: str
    """The source rendition's media playlist."""
    grown: int
    """Segments the playlist gained while hls.js played."""
    report: dict[str, Any]
    """hls.js's report."""
    sent: dict[str, Any]
    """Chromium's last record (its getStats samples)."""

    @property
    def played(self) -> float:
        samples = self.report["samples"]
        return float(samples[-1]["currentTime"] - samples[0]["currentTime"])

    @property
    def video(self) -> dict[str, Any]:
        return dict(self.sent["samples"][-1]["video"])


def publish_and_watch(daemon: DaemonProcess, whip_base: str, seconds: float,
                      watch_seconds: float, *, path: LossyPath | None = None) -> Published:
    """Chromium publishes to ``whip_base``/whip/ID for ``seconds``; once a segment is out,
    hls.js plays the daemon's LL-HLS for ``watch_seconds``."""
    banner = daemon.banner
    publisher = ChromiumPeer("publish", f"{whip_base}/whip/{banner.stream_id}", seconds,
                             token=banner.primary_key).start()
    watch: Watch | None = None
    try:
        answered = publisher.answered()
        assert answered["status"] == 201, answered
        if path is not None:
            assert path.candidates() == {f"127.0.0.1:{path.relay_port}"}, path.answers
        daemon.wait_for_log("publisher attached", timeout=20)  # at the POST: media comes after
        # ICE and DTLS, whose handshake a lossy path can hold up for seconds (DTLS resends
        # a lost flight after 1 s, then 2 s): the first segment may be a while.
        for _ in range(60):
            if get(banner.hls_url, timeout=10)[0] == 200:
                break
            time.sleep(0.5)
        video_url = listing(banner.hls_url).media_url("source")
        wait_media(video_url, lambda m: len(m.complete) >= 1, "a segment", within=15)
        begin = media(video_url).last_msn
        watch = Watch(banner.hls_url, watch_seconds).start()
        report = watch.report(timeout=60)
        grown = media(video_url).last_msn - begin
        sent = publisher.finish(timeout=60)
    finally:
        publisher.close()
        if watch is not None:
            watch.close()
    assert sent["deleteStatus"] == 200, sent
    return Published(video_url, grown, report, sent)


def test_chromium_whip_plays_in_hlsjs_with_segments_near_the_target() -> None:
    """Chromium's RTCPeerConnection (fake camera and microphone, H.264 forced) publishes; hls.js
    plays the LL-HLS. Chromium's encoder makes keyframes only when asked, so the segments stay
    near the 1 s target only because the daemon asks (PLI) once a segment reaches it: every
    complete segment is under 1.5 x the target, and Chromium counts the PLIs it answered (all
    but the first two segments begin at one: the publish begins at Chromium's own IDR, and its
    encoder re-initialises once right after)."""
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        run = publish_and_watch(daemon, daemon.base_url, 14, 6)
        daemon.wait_for_log("publisher detached .*DELETE")
        whole = durations(run.video_url)[:-1]
        video = run.video
        print(f"\nChromium WHIP ({video.get('encoderImplementation')}): hls.js played "
              f"{run.played:.1f} s in 6 s, latency p50 {run.report['latencyP50']} s; "
              f"segments {whole}; PLIs {video.get('pliCount')}, keyframes "
              f"{video.get('keyFramesEncoded')} of {video.get('framesEncoded')} frames")
        assert video["codec"] == "video/H264", video
        assert run.played > 3.0, run.report["samples"]
        assert len(whole) >= 5, whole
        assert max(whole) < 1.5 * SEGMENT_SEC, whole
        assert last(run.sent["samples"], "video", "pliCount") >= len(whole) - 2


def test_chromium_whip_through_five_percent_loss_keeps_playing() -> None:
    """Chromium publishes through a relay that drops 5 % of the datagrams each way (ICE,
    DTLS and media alike): the daemon repairs with NACKs what it can and asks for keyframes
    for the rest, the LL-HLS playlist keeps growing and hls.js keeps playing."""
    udp = free_udp_port()
    config = "[transcode]\nenabled = false\n" + webrtc_config(udp)
    with DaemonProcess(extra_config=config) as daemon, \
            LossyPath(daemon.base_url, udp, loss=0.05) as path:
        run = publish_and_watch(daemon, path.base_url, 16, 8, path=path)
        gone = daemon.wait_for_log("whip publisher gone")
        assert path.relay is not None
        relay = path.relay
        video = run.video
        counters = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)\b", gone)
                    if "lost" in k or "drop" in k}
        print(f"\nWHIP through 5 % loss: relay forwarded {relay.forwarded}, dropped "
              f"{relay.dropped}; Chromium got {video.get('nackCount')} NACKs, resent "
              f"{video.get('retransmittedPacketsSent')}, {video.get('pliCount')} PLIs; "
              f"daemon {counters}; playlist +{run.grown} segments, hls.js played "
              f"{run.played:.1f} s in 8 s, {len(run.report['errors'])} non-fatal errors")
        assert relay.forwarded > 500, "the media did not go through the relay"
        assert 0.03 < relay.dropped / (relay.dropped + relay.forwarded) < 0.07
        assert last(run.sent["samples"], "video", "nackCount") > 0, "the daemon sent no NACK"
        assert run.grown >= 3, "the playlist stopped growing"
        assert run.played > 4.0, run.report["samples"]
