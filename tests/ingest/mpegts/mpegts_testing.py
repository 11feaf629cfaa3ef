"""Shared helpers for the MPEG-TS tests: fixtures and ffprobe's reading of them, a driver that
collects events, ways to split input, and a small muxer for crafted streams.

Fixtures (tests/fixtures/mpegts/, ffmpeg 5.1 with libx264/libx265 and its native AAC):

``h264_bframes_aac.ts`` (54 KB): H.264 High with B-frames, AAC-LC 44.1 kHz stereo, ffmpeg's
default muxer settings (PIDs 0x100/0x101, PMT 0x1000, unbounded video PES, several ADTS
frames per audio PES)::

    ffmpeg -f lavfi -i testsrc2=size=160x120:rate=15 \\
      -f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 \\
      -c:v libx264 -preset veryfast -bf 2 -g 15 -b:v 150k -pix_fmt yuv420p \\
      -c:a aac -b:a 48k -ac 2 -f mpegts h264_bframes_aac.ts

``hevc_aac.ts`` (64 KB): HEVC Main with B-frames, an IDR then a CRA keyframe (x265's open
GOP), AAC-LC 48 kHz mono::

    ffmpeg -f lavfi -i testsrc2=size=160x120:rate=15 \\
      -f lavfi -i sine=frequency=440:sample_rate=48000 -t 2 \\
      -c:v libx265 -preset veryfast -x265-params bframes=2:keyint=15:log-level=error \\
      -b:v 150k -pix_fmt yuv420p -c:a aac -b:a 48k -ac 1 -f mpegts hevc_aac.ts

``h264_cbr_variety.ts`` (89 KB): what other muxer settings change. 176x100 (SPS cropping),
B-pyramid; an MP2 stream listed before the AAC one (ignored; the AAC one is the audio track);
constant mux rate (null packets, adaptation-only PCR packets, stuffing); video PES with a
PES_packet_length; PAT/PMT before every video frame and re-sent headers; the first packets
flagged discontinuous; non-default PIDs and program number::

    ffmpeg -f lavfi -i testsrc2=size=176x100:rate=25 \\
      -f lavfi -i sine=frequency=330:sample_rate=48000 \\
      -f lavfi -i sine=frequency=660:sample_rate=48000 -t 1.6 \\
      -map 0:v -map 2:a -map 1:a -c:v libx264 -preset veryfast -profile:v high \\
      -x264-params keyint=10:bframes=3:b-pyramid=normal -b:v 120k -pix_fmt yuv420p \\
      -c:a:0 mp2 -b:a:0 64k -c:a:1 aac -b:a:1 32k -ac 1 -muxrate 420k \\
      -omit_video_pes_length 0 \\
      -mpegts_flags +resend_headers+pat_pmt_at_frames+initial_discontinuity \\
      -mpegts_start_pid 0x200 -mpegts_pmt_start_pid 0x300 -mpegts_service_id 7 \\
      -f mpegts h264_cbr_variety.ts
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.media import Frame, TrackInfo
from ingest.mpegts.demux import TsDemuxer
from ingest.mpegts.events import FrameReceived, TrackAnnounced
from ingest.mpegts.psi import crc32_mpeg
from tests.ingest.codecs.codecs_testing import unprefixed

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mpegts"
FIXTURE_NAMES = ("h264_bframes_aac.ts", "hevc_aac.ts", "h264_cbr_variety.ts")
PACKET = 188
WRAP = 1 << 33


@cache
def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Demuxed:
    tracks: list[TrackInfo]
    frames: list[Frame]
    demuxer: TsDemuxer

    def of(self, kind: str) -> list[Frame]:
        return [f for f in self.frames if f.track.kind == kind]

    def stamps(self, kind: str) -> list[tuple[int, int, bool]]:
        return [(f.pts, f.dts, f.keyframe) for f in self.of(kind)]


def demux(pieces: Iterable[bytes], *, flush: bool = True, **options: int) -> Demuxed:
    demuxer = TsDemuxer(**options)
    out = Demuxed([], [], demuxer)

    def drain() -> None:
        while (event := demuxer.next_event()) is not None:
            if isinstance(event, TrackAnnounced):
                out.tracks.append(event.track)
            else:
                assert isinstance(event, FrameReceived)
                out.frames.append(event.frame)

    for piece in pieces:
        demuxer.receive_data(piece)
        drain()
    if flush:
        demuxer.flush()
        drain()
    return out


@cache
def probe(path: Path) -> dict[str, list[tuple[int, int, bool]]]:
    """ffprobe's packets of the (first) H.264/HEVC and AAC streams: (pts, dts, keyframe)."""
    out = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=index,codec_type,codec_name:packet=stream_index,pts,dts,flags",
         "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout)
    wanted: dict[int, str] = {}
    for stream in out["streams"]:
        kind = {"h264": "video", "hevc": "video", "aac": "audio"}.get(stream["codec_name"])
        if kind is not None and kind not in wanted.values():
            wanted[stream["index"]] = kind
    packets: dict[str, list[tuple[int, int, bool]]] = {"video": [], "audio": []}
    for p in out["packets"]:
        kind = wanted.get(p["stream_index"])
        if kind is not None:
            packets[kind].append((int(p["pts"]), int(p["dts"]), "K" in p["flags"]))
    return packets


def random_splits(data: bytes, seed: int, largest: int = 1456) -> list[bytes]:
    rng = random.Random(seed)
    pieces, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, largest)
        pieces.append(data[pos:pos + size])
        pos += size
    return pieces


def packets(data: bytes) -> list[bytes]:
    return [data[i:i + PACKET] for i in range(0, len(data), PACKET)]


def pid_of(packet: bytes) -> int:
    return (packet[1] & 0x1F) << 8 | packet[2]


def payload_offset(packet: bytes | bytearray) -> int:
    return 5 + packet[4] if packet[3] & 0x20 else 4


def encode_timestamp(prefix: int, value: int) -> bytes:
    """A 5-byte PTS/DTS field with marker bits."""
    return bytes((prefix << 4 | (value >> 30 & 7) << 1 | 1, value >> 22 & 0xFF,
                  (value >> 15 & 0x7F) << 1 | 1, value >> 7 & 0xFF, (value & 0x7F) << 1 | 1))


def shift_timestamps(data: bytes, offset: int) -> bytes:
    """The stream with every PES PTS/DTS (and PCR) moved by ``offset`` modulo 2^33."""
    out = bytearray(data)
    for pos in range(0, len(out) - PACKET + 1, PACKET):
        packet = out[pos:pos + PACKET]
        if packet[3] & 0x20 and packet[4] and packet[5] & 0x10:
            base = int.from_bytes(packet[6:11], "big") >> 7
            base = (base + offset) % WRAP
            field = base << 7 | (packet[10] & 0x7F)
            out[pos + 6:pos + 11] = field.to_bytes(5, "big")
        start = pos + payload_offset(packet)
        if not packet[1] & 0x40 or out[start:start + 3] != b"\x00\x00\x01" or \
                out[start + 3] < 0xC0:
            continue
        flags = out[start + 7] >> 6
        for index, at in ((0, start + 9), (1, start + 14)):
            if flags & 2 and (index == 0 or flags == 3):
                old = ((out[at] >> 1 & 7) << 30 | out[at + 1] << 22 | (out[at + 2] >> 1) << 15
                       | out[at + 3] << 7 | out[at + 4] >> 1)
                out[at:at + 5] = encode_timestamp(out[at] >> 4, (old + offset) % WRAP)
    return bytes(out)


class Muxer:
    """A small TS writer for crafted streams: PAT, PMT, PES split into packets (stuffed with
    adaptation fields), continuity counters per PID."""

    def __init__(self, *, pmt_pid: int = 0x1000, program: int = 1) -> None:
        self.pmt_pid = pmt_pid
        self.program = program
        self.cc: dict[int, int] = {}

    def packets(self, pid: int, payload: bytes, *, pusi: bool = True,
                discontinuity: bool = False) -> bytes:
        out = bytearray()
        first = True
        while payload or first:
            flags = 0x80 if first and discontinuity else 0x00
            room = 182 if flags else 184
            chunk, payload = payload[:room], payload[room:]
            cc = self.cc.get(pid, -1) + 1 & 0x0F
            self.cc[pid] = cc
            header = bytes((0x47, (0x40 if first and pusi else 0) | pid >> 8, pid & 0xFF))
            if len(chunk) == 184:
                out += header + bytes((0x10 | cc,)) + chunk
            else:
                stuffing = 183 - len(chunk)  # adaptation_field_length
                field = bytes((stuffing,)) + (bytes((flags,)) + b"\xff" * (stuffing - 1)
                                              if stuffing else b"")
                out += header + bytes((0x30 | cc,)) + field + chunk
            first = False
        return bytes(out)

    @staticmethod
    def section(table_id: int, extension: int, body: bytes, version: int = 0) -> bytes:
        head = struct.pack(">BHHBBB", table_id, 0xB000 | len(body) + 9, extension,
                           0xC1 | version << 1, 0, 0)
        data = head + body
        return data + crc32_mpeg(data).to_bytes(4, "big")

    def pat(self, version: int = 0) -> bytes:
        body = struct.pack(">HH", self.program, 0xE000 | self.pmt_pid)
        return self.packets(0, b"\x00" + self.section(0x00, 1, body, version))

    def pmt(self, streams: list[tuple[int, int]], version: int = 0,
            pcr_pid: int = 0x100) -> bytes:
        body = struct.pack(">HH", 0xE000 | pcr_pid, 0xF000)
        for stream_type, pid in streams:
            body += struct.pack(">BHH", stream_type, 0xE000 | pid, 0xF000)
        return self.packets(self.pmt_pid, b"\x00" + self.section(0x02, self.program, body,
                                                                 version))

    def pes(self, pid: int, stream_id: int, payload: bytes, pts: int | None,
            dts: int | None = None, *, bounded: bool = False,
            discontinuity: bool = False) -> bytes:
        return self.packets(pid, pes_packet(stream_id, payload, pts, dts, bounded=bounded),
                            discontinuity=discontinuity)


def pes_packet(stream_id: int, payload: bytes, pts: int | None, dts: int | None = None, *,
               bounded: bool = False) -> bytes:
    fields = b""
    flags = 0
    if pts is not None:
        flags = 0x80
        fields = encode_timestamp(3 if dts is not None else 2, pts)
        if dts is not None:
            flags = 0xC0
            fields += encode_timestamp(1, dts)
    length = 3 + len(fields) + len(payload) if bounded else 0
    return (b"\x00\x00\x01" + bytes((stream_id,)) + struct.pack(">H", length)
            + bytes((0x80, flags, len(fields))) + fields + payload)


def adts_frame(payload: bytes, *, rate_index: int = 3, channels: int = 2,
               profile: int = 1) -> bytes:
    length = 7 + len(payload)
    return bytes((0xFF, 0xF1, profile << 6 | rate_index << 2 | channels >> 2,
                  (channels & 3) << 6 | length >> 11, length >> 3 & 0xFF,
                  (length & 7) << 5 | 0x1F, 0xFC)) + payload


def nal_units(frame: Frame) -> list[bytes]:
    """The NAL units of a length-prefixed sample (checking that they tile it)."""
    return unprefixed(frame.payload)


def record_nals(config: bytes, hevc: bool) -> list[bytes]:
    """The parameter sets listed in an avcC/hvcC."""
    nals = []
    if hevc:
        pos = 23
        for _ in range(config[22]):
            count = int.from_bytes(config[pos + 1:pos + 3], "big")
            pos += 3
            for _ in range(count):
                size = int.from_bytes(config[pos:pos + 2], "big")
                nals.append(config[pos + 2:pos + 2 + size])
                pos += 2 + size
        return nals
    pos = 6
    for count_at in (5, None):
        count = config[5] & 0x1F if count_at else config[pos]
        pos += 0 if count_at else 1
        for _ in range(count):
            size = int.from_bytes(config[pos:pos + 2], "big")
            nals.append(config[pos + 2:pos + 2 + size])
            pos += 2 + size
    return nals


def annex_b(nals: list[bytes]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)
