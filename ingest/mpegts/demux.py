"""MPEG-TS to the media model (``shared/specs/fmp4-mpegts.md``): 188-byte packets, PAT and
PMT, PES reassembly, H.264 (Annex B to length-prefixed NAL units, SPS/PPS into an avcC) and
AAC (ADTS to raw frames and an AudioSpecificConfig), 90 kHz timestamps extended past the
33-bit wrap.

Input is a byte stream in any chunking (SRT payloads need not hold whole TS packets). What
loss explains (a continuity-counter jump, a broken sync byte, a truncated PES) is counted and
recovered from, never raised: the SRT receiver feeds this after dropping packets it could not
recover. Only a PES beyond ``max_pes_size`` raises ``MpegTsError``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ingest.media import Frame, TrackInfo
from ingest.mpegts.errors import MpegTsError
from ingest.mpegts.events import FrameReceived, TrackAnnounced, TsEvent
from ingest.mpegts.hevc import hevc_config
from ingest.rtmp.bitstream import BitstreamError, h264_sps_size, hevc_sps_size
from ingest.rtmp.flv import avc_codec_string, hevc_codec_string

__all__ = ["TsDemuxer"]

PACKET = 188
SYNC = 0x47
TIMESCALE = 90000
STREAM_H264, STREAM_HEVC, STREAM_AAC = 0x1B, 0x24, 0x0F
_WRAP = 1 << 33
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
              8000, 7350)
_NAL_AUD, _NAL_SPS, _NAL_PPS, _NAL_IDR = 9, 7, 8, 5


class _Clock:
    """33-bit PTS/DTS onto one growing axis (per track)."""

    def __init__(self) -> None:
        self.last: int | None = None

    def extend(self, raw: int) -> int:
        if self.last is None:
            self.last = raw
            return raw
        step = (raw - self.last) % _WRAP
        if step >= _WRAP // 2:
            step -= _WRAP  # a little backwards (B-frame pts, or a reordered stream)
        self.last += step
        return self.last


@dataclass
class _Pes:
    pid: int
    kind: str
    data: bytearray = field(default_factory=bytearray)
    expected: int = 0
    """PES_packet_length's payload size, 0 = unbounded (video)."""
    pts: int | None = None
    dts: int | None = None
    arrival: float = 0.0
    broken: bool = False


class TsDemuxer:
    def __init__(self, *, max_pes_size: int = 8 << 20) -> None:
        self.max_pes_size = max_pes_size
        self._buf = bytearray()
        self._events: deque[TsEvent] = deque()
        self._cc: dict[int, int] = {}
        self._pmt_pids: set[int] = set()
        self._es: dict[int, str] = {}  # pid -> "video" | "audio"
        self._video_codec = "h264"
        self._vps = b""
        self._pes: dict[int, _Pes] = {}
        self._clocks = {"video": _Clock(), "audio": _Clock()}
        self._sps = b""
        self._pps = b""
        self._video: TrackInfo | None = None
        self._audio: TrackInfo | None = None
        self._now = 0.0
        # Counters (health, tests).
        self.cc_errors = 0
        self.resyncs = 0
        self.dropped_frames = 0
        self.broken_pes = 0
        self.psi_errors = 0

    def receive_data(self, data: bytes, now: float = 0.0) -> None:
        self._now = now
        buf = self._buf
        buf += data
        pos = 0
        end = len(buf)
        while end - pos >= PACKET:
            if buf[pos] != SYNC:
                found = self._resync(buf, pos)
                self.resyncs += 1
                if found < 0:
                    pos = end - PACKET + 1  # keep a tail that may start a packet
                    break
                pos = found
                continue
            self._packet(memoryview(buf)[pos:pos + PACKET])
            pos += PACKET
        del buf[:pos]

    @staticmethod
    def _resync(buf: bytearray, pos: int) -> int:
        """The next offset where two sync bytes 188 apart (or one at the end) line up."""
        while True:
            pos = buf.find(SYNC, pos + 1)
            if pos < 0:
                return -1
            if pos + PACKET >= len(buf) or buf[pos + PACKET] == SYNC:
                return pos

    def next_event(self) -> TsEvent | None:
        return self._events.popleft() if self._events else None

    def flush(self) -> None:
        """End of stream: emit the PES still being assembled."""
        for pid in list(self._pes):
            self._finish(pid)

    # -- packets ---------------------------------------------------------------------------

    def _packet(self, packet: memoryview) -> None:
        b1, b2, b3 = packet[1], packet[2], packet[3]
        if b1 & 0x80:  # transport_error_indicator
            self.cc_errors += 1
            return
        pid = (b1 & 0x1F) << 8 | b2
        pusi = bool(b1 & 0x40)
        afc = b3 >> 4 & 3
        cc = b3 & 0x0F
        pos = 4
        if afc & 2:
            pos += 1 + packet[4]
            if pos > PACKET:
                self.cc_errors += 1
                return
        if not afc & 1 or pid == 0x1FFF:
            return  # no payload / null packet
        last = self._cc.get(pid)
        self._cc[pid] = cc
        if last is not None and cc != (last + 1) & 0xF:
            if cc == last:
                return  # a duplicate packet (allowed once)
            self.cc_errors += 1
            pes = self._pes.get(pid)
            if pes is not None:
                pes.broken = True
        payload = packet[pos:]
        if pid == 0:
            self._pat(payload, pusi)
        elif pid in self._pmt_pids:
            self._pmt(payload, pusi)
        elif pid in self._es:
            self._pes_data(pid, payload, pusi)

    def _section(self, payload: memoryview, pusi: bool) -> memoryview | None:
        """A whole PSI section in this packet (PAT/PMT fit one), CRC-checked."""
        if not pusi or not payload:
            return None
        start = 1 + payload[0]
        if start + 3 > len(payload):
            self.psi_errors += 1
            return None
        length = (payload[start + 1] & 0x0F) << 8 | payload[start + 2]
        end = start + 3 + length
        if end > len(payload) or length < 9 or _crc32_mpeg(payload[start:end]) != 0:
            self.psi_errors += 1
            return None
        return payload[start:end]

    def _pat(self, payload: memoryview, pusi: bool) -> None:
        section = self._section(payload, pusi)
        if section is None or section[0] != 0x00:
            return
        for pos in range(8, len(section) - 4, 4):
            program = section[pos] << 8 | section[pos + 1]
            if program:
                self._pmt_pids.add((section[pos + 2] & 0x1F) << 8 | section[pos + 3])

    def _pmt(self, payload: memoryview, pusi: bool) -> None:
        section = self._section(payload, pusi)
        if section is None or section[0] != 0x02:
            return
        info_length = (section[10] & 0x0F) << 8 | section[11]
        pos = 12 + info_length
        kinds = set(self._es.values())
        while pos + 5 <= len(section) - 4:
            stream_type = section[pos]
            pid = (section[pos + 1] & 0x1F) << 8 | section[pos + 2]
            es_length = (section[pos + 3] & 0x0F) << 8 | section[pos + 4]
            pos += 5 + es_length
            kind = {STREAM_H264: "video", STREAM_HEVC: "video",
                    STREAM_AAC: "audio"}.get(stream_type)
            if kind is not None and (kind not in kinds or self._es.get(pid) == kind):
                self._es[pid] = kind
                kinds.add(kind)
                if kind == "video":
                    self._video_codec = "hevc" if stream_type == STREAM_HEVC else "h264"

    # -- PES -------------------------------------------------------------------------------

    def _pes_data(self, pid: int, payload: memoryview, pusi: bool) -> None:
        if pusi:
            self._finish(pid)
            if len(payload) < 9 or payload[0] != 0 or payload[1] != 0 or payload[2] != 1:
                self.broken_pes += 1
                return
            length = payload[4] << 8 | payload[5]
            flags = payload[7]
            header_length = payload[8]
            if 9 + header_length > len(payload):
                self.broken_pes += 1
                return
            pts = dts = None
            if flags & 0x80 and header_length >= 5:
                pts = _timestamp(payload, 9)
                dts = _timestamp(payload, 14) if flags & 0x40 and header_length >= 10 else pts
            pes = _Pes(pid, self._es[pid], pts=pts, dts=dts, arrival=self._now,
                       expected=max(0, length - 3 - header_length) if length else 0)
            pes.data += payload[9 + header_length:]
            self._pes[pid] = pes
        else:
            pes_or_none = self._pes.get(pid)
            if pes_or_none is None:
                return  # the middle of a PES whose start was lost
            pes = pes_or_none
            pes.data += payload
            pes.arrival = self._now
        if len(pes.data) > self.max_pes_size:
            del self._pes[pid]
            raise MpegTsError(f"PES of more than {self.max_pes_size} bytes", "limit")
        if pes.expected and len(pes.data) >= pes.expected:
            self._finish(pid)

    def _finish(self, pid: int) -> None:
        pes = self._pes.pop(pid, None)
        if pes is None:
            return
        if pes.broken or pes.pts is None or pes.dts is None:
            self.broken_pes += 1
            return
        dts = self._clocks[pes.kind].extend(pes.dts)
        offset = (pes.pts - pes.dts) % _WRAP  # pts - dts, itself across a wrap
        pts = dts + (offset - _WRAP if offset >= _WRAP // 2 else offset)
        data = bytes(pes.data[:pes.expected] if pes.expected else pes.data)
        if pes.kind == "video" and self._video_codec == "hevc":
            self._hevc(data, pts, dts, pes.arrival)
        elif pes.kind == "video":
            self._h264(data, pts, dts, pes.arrival)
        else:
            self._adts(data, pts, pes.arrival)

    # -- H.264 -----------------------------------------------------------------------------

    def _h264(self, data: bytes, pts: int, dts: int, arrival: float) -> None:
        nals = _split_annex_b(data)
        out: list[bytes] = []
        key = False
        sps, pps = self._sps, self._pps
        for nal in nals:
            kind = nal[0] & 0x1F
            if kind == _NAL_SPS:
                sps = nal
            elif kind == _NAL_PPS:
                pps = nal
            elif kind == _NAL_AUD:
                continue
            else:
                key = key or kind == _NAL_IDR
                out.append(len(nal).to_bytes(4, "big") + nal)
        if (sps, pps) != (self._sps, self._pps) and sps and pps:
            self._announce_h264(sps, pps)
        if self._video is None or not out:
            self.dropped_frames += 1
            return
        self._events.append(FrameReceived(Frame(self._video, dts, pts, key, b"".join(out),
                                                arrival)))

    def _announce_h264(self, sps: bytes, pps: bytes) -> None:
        if len(sps) < 4:
            return
        try:
            width, height = h264_sps_size(sps)
        except (BitstreamError, IndexError, ValueError):
            return
        self._sps, self._pps = sps, pps
        avcc = (bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + len(sps).to_bytes(2, "big")
                + sps + b"\x01" + len(pps).to_bytes(2, "big") + pps)
        self._video = TrackInfo(0, "video", "h264", TIMESCALE, avcc, avc_codec_string(avcc),
                                width, height)
        self._events.append(TrackAnnounced(self._video))

    # -- HEVC ------------------------------------------------------------------------------

    def _hevc(self, data: bytes, pts: int, dts: int, arrival: float) -> None:
        out: list[bytes] = []
        key = False
        vps, sps, pps = self._vps, self._sps, self._pps
        for nal in _split_annex_b(data):
            if len(nal) < 2:
                continue
            kind = nal[0] >> 1 & 0x3F
            if kind == 32:
                vps = nal
            elif kind == 33:
                sps = nal
            elif kind == 34:
                pps = nal
            elif kind == 35:  # access unit delimiter
                continue
            else:
                key = key or 16 <= kind <= 23  # IRAP pictures
                out.append(len(nal).to_bytes(4, "big") + nal)
        if (vps, sps, pps) != (self._vps, self._sps, self._pps) and vps and sps and pps:
            try:
                config = hevc_config(vps, sps, pps)
                width, height = hevc_sps_size(sps)
            except (BitstreamError, IndexError, ValueError):
                config = b""
            if config:
                self._vps, self._sps, self._pps = vps, sps, pps
                self._video = TrackInfo(0, "video", "hevc", TIMESCALE, config,
                                        hevc_codec_string(config), width, height)
                self._events.append(TrackAnnounced(self._video))
        if self._video is None or not out:
            self.dropped_frames += 1
            return
        self._events.append(FrameReceived(Frame(self._video, dts, pts, key, b"".join(out),
                                                arrival)))

    # -- AAC -------------------------------------------------------------------------------

    def _adts(self, data: bytes, pts: int, arrival: float) -> None:
        pos = 0
        n = 0
        while len(data) - pos >= 7:
            if data[pos] != 0xFF or data[pos + 1] & 0xF0 != 0xF0:
                self.broken_pes += 1
                return
            protection_absent = data[pos + 1] & 1
            profile = data[pos + 2] >> 6
            rate_index = data[pos + 2] >> 2 & 0x0F
            channels = (data[pos + 2] & 1) << 2 | data[pos + 3] >> 6
            length = (data[pos + 3] & 3) << 11 | data[pos + 4] << 3 | data[pos + 5] >> 5
            header = 7 if protection_absent else 9
            if rate_index >= len(_AAC_RATES) or length < header or pos + length > len(data):
                self.broken_pes += 1
                return
            rate = _AAC_RATES[rate_index]
            asc = ((profile + 1) << 11 | rate_index << 7 | channels << 3).to_bytes(2, "big")
            track = self._audio
            if track is None or track.config != asc:
                track = self._audio = TrackInfo(1, "audio", "aac", TIMESCALE, asc,
                                                f"mp4a.40.{profile + 1}", sample_rate=rate,
                                                channels=channels)
                self._events.append(TrackAnnounced(track))
            frame_pts = pts + n * 1024 * TIMESCALE // rate
            self._events.append(FrameReceived(Frame(
                track, frame_pts, frame_pts, True, data[pos + header:pos + length], arrival)))
            pos += length
            n += 1


def _timestamp(data: memoryview, pos: int) -> int:
    return ((data[pos] >> 1 & 7) << 30 | data[pos + 1] << 22 | (data[pos + 2] >> 1) << 15
            | data[pos + 3] << 7 | data[pos + 4] >> 1)


def _split_annex_b(data: bytes) -> list[bytes]:
    """NAL units between 00 00 01 start codes (a 00 00 00 01 leaves a trailing zero that is
    stripped)."""
    nals: list[bytes] = []
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        end = len(data) if nxt < 0 else nxt
        nal = data[begin:end].rstrip(b"\x00") if nxt >= 0 else data[begin:end]
        if nal:
            nals.append(nal)
        start = nxt
    return nals


def _crc32_mpeg(data: memoryview) -> int:
    crc = 0xFFFFFFFF
    for byte in bytes(data):
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1 ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc
