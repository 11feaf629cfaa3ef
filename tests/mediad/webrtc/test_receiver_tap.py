"""The encoded-frame adapter on its own: two aiortc peers in this process, one sending with
aiortc's own H.264 and Opus encoders, the other tapped. What comes out is what was sent, as
access units a decoder takes, and nothing is decoded on the receiving side."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

import aiortc
import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import RtpPacket

from ingest.rtp.reassembly import Picture
from mediad.webrtc.receiver_tap import ReceiverTap, TapError, tap_receiver
from tests.mediad.webrtc.whip_app_testing import MovingBar, Silence


@dataclass
class Received:
    video: list[Picture] = field(default_factory=list)
    audio: list[tuple[bytes, int]] = field(default_factory=list)
    reports: list[tuple[str, int, int]] = field(default_factory=list)


async def connected_pair() -> tuple[RTCPeerConnection, RTCPeerConnection,
                                    dict[str, ReceiverTap], Received]:
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    video = sender.addTrack(MovingBar())
    transceiver = next(t for t in sender.getTransceivers() if t.sender is video)
    capabilities = RTCRtpReceiver.getCapabilities("video")
    assert capabilities is not None
    transceiver.setCodecPreferences([c for c in capabilities.codecs
                                     if c.mimeType in ("video/H264", "video/rtx")])
    sender.addTrack(Silence())
    got = Received()
    taps: dict[str, ReceiverTap] = {}

    @receiver.on("track")
    def on_track(track: aiortc.MediaStreamTrack) -> None:
        rx = next(t.receiver for t in receiver.getTransceivers() if t.receiver.track is track)
        taps[track.kind] = tap_receiver(
            rx, on_video=lambda p, at: got.video.append(p),
            on_audio=lambda data, ts, at: got.audio.append((data, ts)),
            on_report=lambda ntp, rtp: got.reports.append((track.kind, ntp, rtp)))

    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender, receiver, taps, got


async def test_pictures_and_opus_packets_come_out_as_sent_and_undecoded() -> None:
    sender, receiver, taps, got = await connected_pair()
    try:
        for _ in range(100):
            if len(got.video) >= 45 and got.reports:
                break
            await asyncio.sleep(0.05)
        pictures = got.video
        assert len(pictures) >= 45
        assert not any(p.after_loss for p in pictures)
        stamps = [p.timestamp for p in pictures]
        assert all((b - a) % (1 << 32) == 3000 for a, b in itertools.pairwise(stamps))
        decoder = av.CodecContext.create("h264", "r")
        decoded = 0
        for picture in pictures:
            assert picture.data.startswith(b"\x00\x00\x00\x01")  # Annex B, as depayloaded
            packet = av.Packet(picture.data)
            packet.pts, packet.time_base = picture.timestamp, Fraction(1, 90000)
            decoded += len(decoder.decode(packet))
        assert decoded >= len(pictures) - 2  # every picture a decoder takes (bar its delay)
        assert len(got.audio) >= 40
        assert {kind for kind, _, _ in got.reports} <= {"video", "audio"}
        assert got.reports, "sender reports are observed for A/V sync"
        assert taps["video"].media_ssrc is not None
        # Nothing was queued for aiortc's decoder thread: the remote tracks stay empty.
        track = next(t.receiver.track for t in receiver.getTransceivers()
                     if t.receiver.track.kind == "video")
        assert getattr(track, "_queue").empty()  # noqa: B009 (aiortc's private frame queue)
        await taps["video"].request_keyframe()  # a PLI goes out without error
    finally:
        await sender.close()
        await receiver.close()


def test_a_receiver_without_the_private_jitter_buffer_is_refused() -> None:
    class Elsewhere:
        pass

    with pytest.raises(TapError, match="needs updating"):
        tap_receiver(cast(RTCRtpReceiver, Elsewhere()), on_video=lambda p, at: None,
                     on_audio=lambda d, t, a: None, on_report=lambda n, r: None)


class NackRecorder:
    """Stands in for the receiver's RTCP side only: the NACKs the tap sends are recorded."""

    def __init__(self) -> None:
        self.nacks: list[tuple[int, list[int]]] = []

    async def _send_rtcp_nack(self, media_ssrc: int, lost: list[int]) -> None:
        self.nacks.append((media_ssrc, lost))


async def test_a_packet_still_missing_is_asked_for_again_until_it_comes() -> None:
    now = [0.0]
    pictures: list[Picture] = []
    rtcp = NackRecorder()
    tap = ReceiverTap(cast(RTCRtpReceiver, rtcp), "video",
                      on_video=lambda p, at: pictures.append(p),
                      on_audio=lambda d, t, a: None, on_report=lambda n, r: None,
                      clock=lambda: now[0])

    def packet(seq: int, ts: int, marker: bool) -> RtpPacket:
        rtp = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq,
                        timestamp=ts, ssrc=1234)
        setattr(rtp, "_data", b"\x00\x00\x00\x01\x41" if not marker else b"\x42")  # noqa: B010
        return rtp

    tap.add(packet(10, 0, False))
    tap.add(packet(11, 0, True))  # picture 0
    tap.add(packet(13, 3000, True))  # 12 lost: picture 1 waits
    for step in range(1, 6):
        now[0] = step * 0.03
        tap.add(packet(13 + step, 3000 * (step + 1), True))
        await asyncio.sleep(0)
    assert len(pictures) == 1
    assert rtcp.nacks and all(nack == (1234, [12]) for nack in rtcp.nacks)
    assert 2 <= len(rtcp.nacks) <= 4  # about every NACK_INTERVAL_SEC, not every packet
    tap.add(packet(12, 3000, False))  # the retransmission
    assert len(pictures) == 7 and not any(p.after_loss for p in pictures)
