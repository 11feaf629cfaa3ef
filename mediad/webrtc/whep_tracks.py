"""A WHEP viewer's two aiortc tracks: each ``recv()`` hands aiortc a pre-encoded packet.

aiortc's sender passes an ``av.Packet`` to its codec's ``pack()`` untouched (its public path
for encoded media): H.264 access units are split at their start codes and packetised,
Opus packets sent as they are, each at the RTP timestamp of ``packet.pts`` in
``packet.time_base``. Nothing is decoded or encoded here.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpSender

from mediad.webrtc.whep_units import AUDIO_RATE, VIDEO_RATE
from mediad.webrtc.whep_viewer_queue import Kind, ViewerQueue

_TIME_BASES: dict[Kind, Fraction] = {"video": Fraction(1, VIDEO_RATE),
                                     "audio": Fraction(1, AUDIO_RATE)}

_KEYFRAME_HOOK = "_send_keyframe"
"""``RTCRtpSender``'s private method that a PLI or FIR calls (aiortc 1.16)."""


class WhepTrack(MediaStreamTrack):
    def __init__(self, kind: Kind, viewer: ViewerQueue) -> None:
        super().__init__()
        self.kind = kind
        self._kind: Kind = kind
        self._viewer = viewer
        self._time_base = _TIME_BASES[kind]

    async def recv(self) -> av.Packet[Any]:
        unit = await self._viewer.get(self._kind)
        packet = av.Packet(unit.data)
        packet.pts = unit.timestamp
        packet.time_base = self._time_base
        return packet

    def stop(self) -> None:
        super().stop()
        self._viewer.close()


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], object]) -> None:
    """``callback`` on each PLI/FIR the browser sends for ``sender``'s video. aiortc turns
    them into ``_send_keyframe()`` (private; 1.16), which only flags its own encoder, unused
    for pre-encoded packets: wrap it."""
    original = getattr(sender, _KEYFRAME_HOOK)

    def send_keyframe() -> None:
        original()
        callback()

    setattr(sender, _KEYFRAME_HOOK, send_keyframe)
