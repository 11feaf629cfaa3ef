"""One WHIP publisher: an aiortc peer connection whose received media, tapped before any
decoding (``receiver_tap.py``), becomes the frames of one ``Publisher`` in the registry, like
an RTMP or SRT connection's.

Keyframes are asked for (RTCP PLI) when the publish starts and until one comes, after a
picture is lost for good, when a WHEP viewer joins, and when an LL-HLS segment reaches its
target length, so that segments stay near ``hls.segment_duration_ms`` even from an encoder
whose own keyframe interval is long (OBS's default WHIP output: 250 frames). Requests are spaced
by ``MIN_REQUEST_GAP_SEC``: a publisher answers each PLI with a whole IDR.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from aiortc import MediaStreamTrack, RTCPeerConnection

from ingest.errors import ProtocolError
from ingest.media import Frame, TrackInfo
from ingest.rtp.frames import VIDEO_RATE, Event, RtpPublish
from ingest.rtp.reassembly import Picture
from ingest.sink import Dropped, TrackRefused
from mediad.background import Tasks
from mediad.publisher import Publisher
from mediad.webrtc.receiver_tap import ReceiverTap, TapError, tap_receiver
from mediad.webrtc.sessions import SessionKind

log = logging.getLogger("mediad.webrtc")

MIN_REQUEST_GAP_SEC: Final = 0.3
"""A round trip and an encode: a keyframe asked for again sooner would only double it."""


class WhipSession:
    kind: SessionKind = "whip"

    def __init__(self, session_id: str, stream_id: str, address: str, pc: RTCPeerConnection,
                 *, segment_sec: float, close_soon: Callable[[str, str], None],
                 expects_video: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.id = session_id
        self.stream_id = stream_id
        self.address = address
        self.pc = pc
        self.segment_sec = segment_sec
        self._close_soon = close_soon
        self._clock = clock
        self.media = RtpPublish(expects_video=expects_video)
        self.publisher: Publisher | None = None
        self.taps: dict[str, ReceiverTap] = {}
        self._last_request = -MIN_REQUEST_GAP_SEC
        self._segment_start: int | None = None
        """Media time (90 kHz) of the keyframe the current LL-HLS segment began at, as the
        segmenter cuts: at the first keyframe a target duration past the last cut."""
        self._requests = Tasks()
        self.closed = False
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)

    # -- wiring ---------------------------------------------------------------------------

    def attach(self, publisher: Publisher) -> None:
        self.publisher = publisher
        publisher.request_keyframe = self.request_keyframe

    def dropped(self, dropped: Dropped) -> None:
        """The registry let this publisher go (the creator ended the stream, a rotated key,
        a takeover, no media)."""
        self._close_soon(self.id, dropped.description)

    def _on_track(self, track: MediaStreamTrack) -> None:
        for transceiver in self.pc.getTransceivers():
            if transceiver.receiver.track is not track:
                continue
            try:
                self.taps[track.kind] = tap_receiver(
                    transceiver.receiver, on_video=self._video, on_audio=self._audio,
                    on_report=self._reporter(track.kind))
            except TapError as exc:
                log.error("cannot receive WHIP media", extra={"fields": {"error": str(exc)}})
                self._close_soon(self.id, str(exc))

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.request_keyframe()

    def _reporter(self, kind: str) -> Callable[[int, int], None]:
        def report(ntp: int, rtp: int) -> None:
            self.media.sender_report(kind, ntp, rtp)
        return report

    # -- media ----------------------------------------------------------------------------

    def _video(self, picture: Picture, arrival: float) -> None:
        if picture.after_loss:
            self.media.picture_lost()
        self._count(len(picture.data))
        try:
            events = self.media.video(picture.data, picture.timestamp, arrival)
        except ProtocolError as exc:  # called inside aiortc's receive path: never raise there
            self._refuse(exc)
            return
        self._deliver(events)
        if self.media.waiting_for_keyframe:
            self.request_keyframe()
            return
        for event in events:
            if isinstance(event, Frame):
                self._keyframe_policy(event)

    def _audio(self, packet: bytes, timestamp: int, arrival: float) -> None:
        self._count(len(packet))
        try:
            self._deliver(self.media.audio(packet, timestamp, arrival))
        except ProtocolError as exc:
            self._refuse(exc)

    def _refuse(self, exc: ProtocolError) -> None:
        log.warning("whip media refused", extra={"fields": {
            "stream": self.stream_id, "peer": self.address, "code": exc.code,
            "error": str(exc)}})
        self._close_soon(self.id, f"bad media: {exc}")

    def _keyframe_policy(self, frame: Frame) -> None:
        """Ask for the keyframe the next segment starts at once the current one has reached
        its target: a keyframe asked for earlier lands before the target and is not cut at
        (the segment would run to the one after); this one lands a round trip and a frame or
        two past it."""
        start = self._segment_start
        if start is None:
            if frame.keyframe:
                self._segment_start = frame.dts
            return
        if (frame.dts - start) / VIDEO_RATE < self.segment_sec:
            return
        if frame.keyframe:
            self._segment_start = frame.dts
        else:
            self.request_keyframe()

    def _deliver(self, events: list[Event]) -> None:
        publisher = self.publisher
        if publisher is None or self.closed:
            return
        for event in events:
            if isinstance(event, TrackInfo):
                try:
                    publisher.announce_track(event)
                except TrackRefused as refused:
                    self._close_soon(self.id, refused.reason)
                    return
            else:
                publisher.push_frame(event)

    def _count(self, size: int) -> None:
        if self.publisher is not None:
            self.publisher.count_bytes(size)

    def request_keyframe(self) -> None:
        """An RTCP PLI to the publisher, at most every ``MIN_REQUEST_GAP_SEC``."""
        tap = self.taps.get("video")
        now = self._clock()
        if tap is None or self.closed or now - self._last_request < MIN_REQUEST_GAP_SEC:
            return
        self._last_request = now
        self._requests.spawn(tap.request_keyframe())

    # -- the end --------------------------------------------------------------------------

    async def close(self, reason: str) -> None:
        self.closed = True
        publisher, self.publisher = self.publisher, None
        if publisher is not None:
            publisher.request_keyframe = None
            publisher.detach(reason)
        await self._requests.cancel_all()
        for tap in self.taps.values():
            await tap.tasks.cancel_all()
        await self.pc.close()
        log.info("whip publisher gone", extra={"fields": {
            "stream": self.stream_id, "peer": self.address, "reason": reason,
            **self.media.counters(),
            "lost_gaps": sum(t.reassembly.lost_pictures for t in self.taps.values()),
            "nacks_again": sum(t.nacks for t in self.taps.values())}})
