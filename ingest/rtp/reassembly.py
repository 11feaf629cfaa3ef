"""Video access units from depacketized RTP, with a bound on how long a lost packet is
waited for.

Packets are ordered by their extended sequence number; a picture is complete when every
packet from the one after the previous picture to the one with the marker bit (RFC 6184
section 5.1: the last packet of an access unit) is there. A missing packet holds everything
behind it while the publisher retransmits it (the daemon sends NACKs); once it has been
missing for ``max_wait`` seconds, or more than ``capacity`` packets wait behind it, it is
given up: the pictures it broke are dropped and counted, and the next complete picture is
marked ``after_loss`` (the caller drops until a keyframe and asks for one). The first
picture passed on starts at the first packet that begins a NAL unit. No clock is read: the
caller passes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEQ_WRAP: Final = 1 << 16
START_CODE: Final = b"\x00\x00\x00\x01"
"""What aiortc's H.264 depayloader puts before each NAL unit it starts (not before the
continuation of a fragmented one)."""


@dataclass(frozen=True, slots=True)
class Picture:
    timestamp: int
    data: bytes
    after_loss: bool


@dataclass(frozen=True, slots=True)
class _Packet:
    timestamp: int
    marker: bool
    data: bytes


class VideoReassembly:
    def __init__(self, max_wait: float = 0.25, capacity: int = 2048) -> None:
        self.max_wait = max_wait
        self.capacity = capacity
        self._packets: dict[int, _Packet] = {}
        self._next: int | None = None
        """Extended sequence number of the first packet of the next picture."""
        self._highest: int | None = None
        self._gap_since: float | None = None
        self._resync = False
        """A gap was given up: packets up to the next marker belong to a broken picture."""
        self._after_loss = False
        self.lost_pictures = 0
        """Gaps given up (each broke at least one picture)."""
        self.late_packets = 0
        """Packets that came after their picture was emitted or given up."""

    def push(self, sequence: int, timestamp: int, marker: bool, data: bytes, now: float
             ) -> list[Picture]:
        extended = self._extend(sequence)
        if self._next is None:
            # The first picture passed on begins at a packet that begins a NAL unit (a start
            # code in front: not an FU-A continuation), or else after the first marker.
            if data.startswith(START_CODE):
                self._next = extended
            elif marker:
                self._next = extended + 1
                return []
            else:
                return []
        if extended < self._next or extended in self._packets:
            self.late_packets += 1
            return self._drain(now)
        self._packets[extended] = _Packet(timestamp, marker, data)
        return self._drain(now)

    def gap_age(self, now: float) -> float:
        """How long the oldest missing packet has been waited for (0 when none is)."""
        return 0.0 if self._gap_since is None else now - self._gap_since

    def missing(self, limit: int = 64) -> list[int]:
        """Sequence numbers (16-bit) missing behind the next picture's start: what to ask
        the publisher to send again, at most ``limit`` of them, oldest first."""
        if self._next is None or not self._packets:
            return []
        highest = max(self._packets)
        out = []
        for seq in range(self._next, highest):
            if seq not in self._packets:
                out.append(seq % SEQ_WRAP)
                if len(out) == limit:
                    break
        return out

    @property
    def waiting(self) -> int:
        """Packets held behind a gap."""
        return len(self._packets)

    def _extend(self, sequence: int) -> int:
        highest = self._highest
        if highest is None:
            self._highest = sequence
            return sequence
        step = (sequence - highest) % SEQ_WRAP
        if step >= SEQ_WRAP // 2:
            step -= SEQ_WRAP
        extended = highest + step
        if extended > highest:
            self._highest = extended
        return extended

    def _drain(self, now: float) -> list[Picture]:
        out: list[Picture] = []
        while True:
            picture = self._take()
            if picture is not None:
                out.append(picture)
                continue
            if not self._packets:
                self._gap_since = None
                return out
            hole = self._hole()
            if hole is None:
                self._gap_since = None
                return out  # a picture still arriving: nothing missing behind what came
            if self._gap_since is None:
                self._gap_since = now
            if now - self._gap_since < self.max_wait and len(self._packets) <= self.capacity:
                return out
            self._give_up(hole)

    def _hole(self) -> int | None:
        """The first missing sequence number with packets behind it, if any."""
        assert self._next is not None
        seq = self._next
        while seq in self._packets:
            seq += 1
        return seq if any(s > seq for s in self._packets) else None

    def _take(self) -> Picture | None:
        """The picture starting at ``_next`` when all of it is here."""
        assert self._next is not None or not self._packets
        if self._next is None:
            return None
        parts: list[bytes] = []
        seq = self._next
        while True:
            packet = self._packets.get(seq)
            if packet is None:
                return None
            if not self._resync:
                parts.append(packet.data)
            if packet.marker:
                break
            seq += 1
        first = self._packets[self._next]
        for done in range(self._next, seq + 1):
            del self._packets[done]
        self._next = seq + 1
        self._gap_since = None
        if self._resync:
            self._resync = False  # the broken picture's tail: the next one starts clean
            return self._take()
        after_loss, self._after_loss = self._after_loss, False
        return Picture(first.timestamp, b"".join(parts), after_loss)

    def _give_up(self, hole: int) -> None:
        """Skip the gap at ``hole``: to the first packet after it. Which picture that packet
        belongs to is unknown (the lost packets may have begun it), so everything up to the
        next marker is dropped with the gap, and the broken picture before it."""
        self._next = min(s for s in self._packets if s > hole)
        for seq in [s for s in self._packets if s < hole]:
            del self._packets[seq]
        self._resync = True
        self.lost_pictures += 1
        self._after_loss = True
        self._gap_since = None
