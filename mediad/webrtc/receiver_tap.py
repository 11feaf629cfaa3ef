"""Encoded media out of an aiortc ``RTCRtpReceiver``, which has no public API for it: aiortc
decodes everything it receives, and a WHIP publish is packaged without re-encoding.

The tap takes the place of the receiver's jitter buffer (a private attribute): aiortc still
does SRTP, RTX unwrapping, NACK generation, receiver reports and depayloading, then hands each
packet, depayloaded, to ``add``. Here a video packet goes to ``VideoReassembly`` (a bounded
wait for retransmissions, then the broken picture dropped) and every Opus packet straight out
(an Opus packet is a whole frame: holding it gains nothing). ``add`` never returns a frame, so
aiortc's decoder thread sits idle and nothing is decoded. The receiver's sender reports are
observed on the way in, for A/V sync.

Written against aiortc 1.16 (``TESTED_AIORTC``); ``tap_receiver`` refuses a receiver whose
private attributes are not where 1.16 keeps them, rather than silently receiving nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiortc
from aiortc import RTCRtpReceiver
from aiortc.rtp import RtcpSrPacket, RtpPacket

from ingest.rtp.reassembly import Picture, VideoReassembly
from mediad.background import Tasks

log = logging.getLogger("mediad.webrtc")

TESTED_AIORTC: Final = ("1.16.",)
_JITTER_BUFFER: Final = "_RTCRtpReceiver__jitter_buffer"
_KIND: Final = "_RTCRtpReceiver__kind"
NACK_INTERVAL_SEC: Final = 0.04
"""How often a packet still missing is asked for again: aiortc sends one NACK when it sees a
gap; a NACK or a retransmission lost on the way would leave the picture broken, so the tap
asks again, about every round trip on a continental link, until the reassembly gives up."""
NO_FRAME: Final = (False, None)
"""What ``add`` answers aiortc: no PLI from aiortc's side, no frame to decode."""

OnVideo = Callable[[Picture, float], None]
"""A reassembled picture (Annex B) and its arrival time (monotonic seconds)."""
OnAudio = Callable[[bytes, int, float], None]
"""An Opus packet, its RTP timestamp and its arrival time."""
OnReport = Callable[[int, int], None]
"""A sender report's NTP timestamp (64-bit) and RTP timestamp."""


class TapError(RuntimeError):
    """This aiortc does not keep its receiver the way the tap was written for."""


def check_aiortc() -> None:
    if not aiortc.__version__.startswith(TESTED_AIORTC):
        log.warning("aiortc version not tested with the WHIP receiver tap", extra={
            "fields": {"aiortc": aiortc.__version__, "tested": list(TESTED_AIORTC)}})


class ReceiverTap:
    """Installed on one receiver by ``tap_receiver``."""

    def __init__(self, receiver: RTCRtpReceiver, kind: str, *, on_video: OnVideo,
                 on_audio: OnAudio, on_report: OnReport,
                 clock: Callable[[], float] = time.monotonic,
                 max_wait: float = 0.25) -> None:
        self.receiver = receiver
        self.kind = kind
        self._on_video = on_video
        self._on_audio = on_audio
        self._on_report = on_report
        self._clock = clock
        self.reassembly = VideoReassembly(max_wait=max_wait)
        self.media_ssrc: int | None = None
        self.packets = 0
        self.nacks = 0
        """NACKs this tap sent again for packets still missing."""
        self._last_nack = 0.0
        self.tasks = Tasks()
        """The NACKs on their way (aiortc's RTCP sends are coroutines; ``add`` is not)."""

    # -- what aiortc calls, in place of its JitterBuffer (only ``add``, in 1.16) -------------

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self.packets += 1
        self.media_ssrc = packet.ssrc
        data: bytes = getattr(packet, "_data", b"")  # aiortc's depayloaded payload
        now = self._clock()
        if self.kind == "audio":
            if data:
                self._on_audio(data, packet.timestamp, now)
            return NO_FRAME
        for picture in self.reassembly.push(packet.sequence_number, packet.timestamp,
                                            bool(packet.marker), data, now):
            self._on_video(picture, now)
        if (self.reassembly.gap_age(now) >= NACK_INTERVAL_SEC
                and now - self._last_nack >= NACK_INTERVAL_SEC):
            missing = self.reassembly.missing()
            if missing:
                self._last_nack = now
                self._nack_again(packet.ssrc, missing)
        return NO_FRAME

    def _nack_again(self, ssrc: int, missing: list[int]) -> None:
        self.nacks += 1
        self.tasks.spawn(self.receiver._send_rtcp_nack(ssrc, missing))

    # -- asking the publisher ------------------------------------------------------------------

    async def request_keyframe(self) -> None:
        """Send a PLI (RFC 4585 section 6.3.1) for the video being received."""
        if self.kind == "video" and self.media_ssrc is not None:
            await self.receiver._send_rtcp_pli(self.media_ssrc)


def tap_receiver(receiver: RTCRtpReceiver, *, on_video: OnVideo, on_audio: OnAudio,
                 on_report: OnReport, max_wait: float = 0.25) -> ReceiverTap:
    """Install a tap on ``receiver`` (before it starts receiving: from the ``track``
    event). Raises ``TapError`` on an aiortc that keeps its receiver otherwise."""
    kind = getattr(receiver, _KIND, None)
    if kind not in ("audio", "video") or not hasattr(receiver, _JITTER_BUFFER):
        raise TapError(f"aiortc {aiortc.__version__}: RTCRtpReceiver has no jitter buffer "
                       f"where 1.16 keeps it; the WHIP tap needs updating")
    tap = ReceiverTap(receiver, kind, on_video=on_video, on_audio=on_audio,
                      on_report=on_report, max_wait=max_wait)
    setattr(receiver, _JITTER_BUFFER, tap)
    handle_rtcp: Callable[[Any], Awaitable[None]] = receiver._handle_rtcp_packet

    async def observe_rtcp(packet: Any) -> None:
        # Only the media stream's own reports: the RTX stream's (same receiver, another
        # SSRC) tie the NTP clock to retransmitted packets' timestamps.
        if isinstance(packet, RtcpSrPacket) and packet.ssrc == tap.media_ssrc:
            info = packet.sender_info
            on_report(info.ntp_timestamp, info.rtp_timestamp)
        await handle_rtcp(packet)

    setattr(receiver, "_handle_rtcp_packet", observe_rtcp)  # noqa: B010 (an instance override)
    return tap
