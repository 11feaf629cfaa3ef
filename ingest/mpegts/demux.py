"""MPEG-TS → the media model (sans-IO, ``shared/specs/fmp4-mpegts.md`` §8): what SRT
publishers send, as ``TrackAnnounced``/``FrameReceived`` events.

Layers: ``packet`` cuts 188-byte packets out of any chunking and regains sync; here a table
maps each PID to its reader (PAT, the PMT of the first program, the first H.264/HEVC and
the first AAC stream; anything else is skipped after its continuity counter is checked);
``psi`` and ``pes`` reassemble sections and PES packets and return what a packet completed,
which the demuxer dispatches (it owns every counter; h11's readers); the codec layer's normalisers
(``ingest.codecs``) turn H.264/HEVC access units into fMP4-ready frames and configuration
records, ``aac`` cuts ADTS into raw frames. Track ids: 0 video, 1 audio;
timescale 90 kHz for both; timestamps extended past the 33-bit wrap, per track, never
backwards.

Errors. The SRT receiver hands this its payloads after dropping what it could not recover,
so whatever loss explains is counted and recovered from, never raised: continuity-counter
jumps (the PES or section in progress on that PID is dropped), lost sync (hunt for two sync
bytes 188 apart), PES cut short or without a start code, bad CRCs, broken ADTS framing, a
PES longer than ``max_pes_size`` (dropped, memory stays bounded; a loss of the next PES start
can make one PES look like two). Only input no loss explains raises ``MpegTsError`` (a
``ProtocolError``): ``no_sync``, 64 KiB without a transport stream's sync pattern. Nothing
else escapes.

Video frames leave when their PES ends (the next PES start on the PID, ``flush``, or
PES_packet_length when a muxer sets it); audio frames leave with their PES's last byte
(ADTS PES carry a length). Video before the first configuration and keyframe is dropped
(``dropped_frames``).
"""

from __future__ import annotations

from collections import deque
from typing import Final

from ingest.codecs.h264 import H264Normaliser
from ingest.codecs.hevc import HevcNormaliser
from ingest.codecs.nal import split_annex_b
from ingest.media import Frame, TrackInfo
from ingest.mpegts.aac import AdtsParser
from ingest.mpegts.events import FrameReceived, TrackAnnounced, TsEvent
from ingest.mpegts.packet import PID_NULL, PID_PAT, PacketSplitter, parse_header
from ingest.mpegts.pes import TIMESTAMP_BITS, Pes, PesAssembler, PesProgress
from ingest.mpegts.psi import (
    TABLE_PAT,
    TABLE_PMT,
    SectionAssembler,
    crc32_mpeg,
    parse_pat,
    parse_pmt,
    section_header,
)
from ingest.timeline import Timeline

__all__ = ["STREAM_AAC", "STREAM_H264", "STREAM_HEVC", "TsDemuxer"]

STREAM_H264: Final = 0x1B
STREAM_HEVC: Final = 0x24
STREAM_AAC: Final = 0x0F
_VIDEO_TYPES: Final = frozenset({STREAM_H264, STREAM_HEVC})
_FIRST_ES_PID: Final = 0x0010  # 0x0000-0x000F are reserved for tables

VideoParser = H264Normaliser | HevcNormaliser
VIDEO_TRACK_ID: Final = 0
TIMESCALE: Final = 90000


def _timeline() -> Timeline:
    """A track's 33-bit PTS/DTS extended; a DTS going backwards (a restarted encoder, a
    splice) rebases the rest of the track."""
    return Timeline(TIMESTAMP_BITS, on_backwards="rebase")


class _EsPid:
    """An elementary PID's reader: its PES reassembly, and which track it feeds."""

    __slots__ = ("assembler", "video")

    def __init__(self, max_pes_size: int, video: bool) -> None:
        self.assembler = PesAssembler(max_pes_size)
        self.video = video


PidReader = SectionAssembler | _EsPid
"""What the PID table holds: PSI PIDs reassemble sections, elementary PIDs PES. Readers
return what a packet completed; the demuxer dispatches it and keeps every counter."""


class _VideoState:
    """The video track across PMT updates: parser (per codec), timeline, keyframe gate."""

    __slots__ = ("keyed", "parser", "stream_type", "timeline")

    def __init__(self) -> None:
        self.parser: VideoParser | None = None
        self.stream_type = 0
        self.keyed = False
        self.timeline = _timeline()


class TsDemuxer:
    """One publish's transport stream. Feed ``receive_data``, drain ``next_event``.

    Counters (loss and damage, for logs and health): ``cc_errors``, ``duplicate_packets``,
    ``transport_errors``, ``scrambled_packets``, ``invalid_packets``, ``resyncs``,
    ``skipped_bytes``, ``psi_errors``, ``dropped_pes`` (of which ``oversized_pes``),
    ``dropped_frames``, ``adts_errors``, ``parameter_set_errors``, ``timestamp_jumps``;
    ``counters()`` gives them all.
    """

    def __init__(self, *, max_pes_size: int = 8 << 20) -> None:
        if max_pes_size <= 0:
            raise ValueError("max_pes_size must be positive")
        self.max_pes_size = max_pes_size
        self._splitter = PacketSplitter()
        self._events: deque[TsEvent] = deque()
        self._now = 0.0
        self._cc: dict[int, int] = {}
        self._readers: dict[int, PidReader] = {PID_PAT: SectionAssembler()}
        self._applied: dict[tuple[int, int], bytes] = {}
        """(PID, section_number) → the last section acted on: repeats skip CRC and parse."""
        self._program: int | None = None
        self._pmt_pid: int | None = None
        self._video_pid: int | None = None
        self._audio_pid: int | None = None
        self._video = _VideoState()
        self._adts = AdtsParser()
        self._audio_timeline = _timeline()
        self._anchor: int | None = None
        """The last extended DTS of any track: where a track's first timestamp is placed."""
        self.cc_errors = 0
        """Continuity-counter jumps on any PID (TS packets lost)."""
        self.duplicate_packets = 0
        self.transport_errors = 0
        """Packets flagged by transport_error_indicator (dropped)."""
        self.scrambled_packets = 0
        self.invalid_packets = 0
        """Reserved adaptation_field_control or an adaptation field past the packet."""
        self.psi_errors = 0
        """PAT/PMT sections with a bad CRC or malformed contents, or unassemblable."""
        self.dropped_pes = 0
        """PES given up: cut by loss, shorter than PES_packet_length, no start code or PTS,
        over ``max_pes_size``."""
        self.oversized_pes = 0
        self.adts_errors = 0
        """PES whose ADTS framing broke, or whose start did not continue a frame the previous
        one ended in."""
        self.dropped_frames = 0
        """Video access units before the first configuration and keyframe, and ADTS frames
        with several raw data blocks."""
        self.parameter_set_errors = 0
        """SPS/PPS/VPS that did not parse (left in the samples)."""

    # -- public API -------------------------------------------------------------------------

    def receive_data(self, data: bytes | memoryview, now: float = 0.0) -> None:
        """Bytes of the stream, in any chunking (parsed where they lie, not copied). ``now``
        (the caller's clock) becomes the ``arrival`` of the frames completed by these
        bytes."""
        self._now = now
        readers = self._readers
        cc_table = self._cc
        for packet in self._splitter.feed(data):
            b1, b3 = packet[1], packet[3]
            if b3 & 0xF0 == 0x10 and not b1 & 0x80:
                # The common case decoded inline: clear, payload only, no transport error.
                pid = (b1 & 0x1F) << 8 | packet[2]
                pusi = bool(b1 & 0x40)
                offset = 4
                discontinuity = False
            else:
                header = parse_header(packet)
                if header is None:
                    self.invalid_packets += 1
                    continue
                if header.transport_error:
                    self.transport_errors += 1
                    continue
                if not header.has_payload:
                    continue  # adaptation only (PCR, stuffing): the CC does not advance
                pid, pusi, offset = header.pid, header.pusi, header.payload_offset
                discontinuity = header.discontinuity
            if pid == PID_NULL:
                continue
            cc = b3 & 0x0F
            last = cc_table.get(pid)
            cc_table[pid] = cc
            reader = readers.get(pid)
            if last is not None and not discontinuity:
                if cc == last:
                    self.duplicate_packets += 1
                    continue
                if cc != (last + 1) & 0x0F:
                    self.cc_errors += 1
                    if reader is not None:
                        self._lost(reader)
            if reader is None:
                continue
            if b3 & 0xC0:
                self.scrambled_packets += 1
                self._lost(reader)
                continue
            if isinstance(reader, _EsPid):
                self._progress(reader, reader.assembler.push(packet[offset:], pusi,
                                                             reader.video))
            else:
                pushed = reader.push(packet[offset:], pusi)
                self.psi_errors += pushed.errors
                for section in pushed.sections:
                    self._section(pid, section)

    def next_event(self) -> TrackAnnounced | FrameReceived | None:
        return self._events.popleft() if self._events else None

    def flush(self) -> None:
        """End of stream: finish the unbounded video PES in progress (its end would be the
        next PES start), drop what is incomplete."""
        for reader in list(self._readers.values()):
            if isinstance(reader, _EsPid):
                self._flush(reader)

    @property
    def video_track(self) -> TrackInfo | None:
        parser = self._video.parser
        return None if parser is None else parser.track

    @property
    def audio_track(self) -> TrackInfo | None:
        return self._adts.track

    @property
    def resyncs(self) -> int:
        """Times sync was lost and hunted for again."""
        return self._splitter.resyncs

    @property
    def skipped_bytes(self) -> int:
        return self._splitter.skipped_bytes

    @property
    def timestamp_jumps(self) -> int:
        """Times a track's DTS went backwards and the track was rebased to continue."""
        return self._video.timeline.jumps + self._audio_timeline.jumps

    def counters(self) -> dict[str, int]:
        names = ("cc_errors", "duplicate_packets", "transport_errors", "scrambled_packets",
                 "invalid_packets", "resyncs", "skipped_bytes", "psi_errors", "dropped_pes",
                 "oversized_pes", "dropped_frames", "adts_errors", "parameter_set_errors",
                 "timestamp_jumps")
        return {name: getattr(self, name) for name in names}

    # -- PSI --------------------------------------------------------------------------------

    def _section(self, pid: int, section: bytes) -> None:
        if len(section) < 3:
            self.psi_errors += 1
            return
        key = (pid, section[6] if len(section) > 6 else 0)
        if self._applied.get(key) == section:
            return
        if crc32_mpeg(section):
            self.psi_errors += 1
            return
        head = section_header(section)
        if head is None:
            self.psi_errors += 1
            return
        if not head.current:
            return  # a table to apply later: it is sent again once current
        if pid == PID_PAT and head.table_id == TABLE_PAT:
            applied = self._pat(section)
        elif pid == self._pmt_pid and head.table_id == TABLE_PMT:
            applied = self._pmt(section, head.table_id_extension)
        else:
            return  # another table sharing the PID
        if applied:
            self._applied[key] = section
        else:
            self.psi_errors += 1

    def _pat(self, section: bytes) -> bool:
        programs = parse_pat(section)
        if programs is None:
            return False
        chosen = next((p for p in programs if p.number == self._program), None)
        if chosen is None and programs and (self._program is None or section[7] == 0):
            chosen = programs[0]  # the first program, or ours is gone from a 1-section PAT
        if chosen is None:
            return True
        pmt_pid = chosen.pmt_pid
        if pmt_pid < _FIRST_ES_PID or pmt_pid == PID_NULL:
            return False
        if chosen.number != self._program or pmt_pid != self._pmt_pid:
            if self._pmt_pid is not None:
                self._unbind(self._pmt_pid)
            if pmt_pid == self._video_pid:
                self._set_video(None, 0)
            elif pmt_pid == self._audio_pid:
                self._set_audio(None)
            self._program = chosen.number
            self._pmt_pid = pmt_pid
            self._readers[pmt_pid] = SectionAssembler()
        return True

    def _pmt(self, section: bytes, program_number: int) -> bool:
        if program_number != self._program:
            return True  # another program's map on the same PID
        program_map = parse_pmt(section)
        if program_map is None:
            return False
        video: tuple[int, int] | None = None
        audio: int | None = None
        for stream in program_map.streams:
            pid = stream.pid
            if pid < _FIRST_ES_PID or pid in (PID_NULL, self._pmt_pid):
                continue
            if video is None and stream.stream_type in _VIDEO_TYPES and pid != audio:
                video = (pid, stream.stream_type)
            elif audio is None and stream.stream_type == STREAM_AAC and (
                    video is None or pid != video[0]):
                audio = pid
        self._set_video(*(video or (None, 0)))
        self._set_audio(audio)
        return True

    def _unbind(self, pid: int) -> None:
        reader = self._readers.pop(pid, None)
        if isinstance(reader, _EsPid):
            self._flush(reader)  # the PMT moved the stream: an unbounded PES ended here
        self._applied = {k: v for k, v in self._applied.items() if k[0] != pid}

    def _set_video(self, pid: int | None, stream_type: int) -> None:
        state = self._video
        if pid == self._video_pid and stream_type == state.stream_type:
            return
        if self._video_pid is not None:
            self._unbind(self._video_pid)
        self._video_pid = pid
        if pid is None:
            return
        if stream_type != state.stream_type:
            parser = HevcNormaliser if stream_type == STREAM_HEVC else H264Normaliser
            state.parser = parser(VIDEO_TRACK_ID, TIMESCALE)
            state.stream_type = stream_type
            state.keyed = False
        self._readers[pid] = _EsPid(self.max_pes_size, video=True)

    def _set_audio(self, pid: int | None) -> None:
        if pid == self._audio_pid:
            return
        if self._audio_pid is not None:
            self._unbind(self._audio_pid)
        self._adts.reset()
        self._audio_pid = pid
        if pid is not None:
            self._readers[pid] = _EsPid(self.max_pes_size, video=False)

    # -- elementary streams -----------------------------------------------------------------

    def _progress(self, reader: _EsPid, progress: PesProgress) -> None:
        if progress.dropped:
            self._dropped(reader, progress.dropped, progress.oversized)
        for pes in progress.finished:
            self._pes(reader, pes)

    def _lost(self, reader: PidReader) -> None:
        """A continuity error (or scrambled payload) on this PID: drop what is in progress."""
        if isinstance(reader, SectionAssembler):
            reader.reset()
            return
        dropped = reader.assembler.discard()
        if dropped:
            self._dropped(reader, dropped, 0)
        elif not reader.video:
            self._adts.reset()

    def _flush(self, reader: _EsPid) -> None:
        pes, dropped = reader.assembler.flush()
        if dropped:
            self._dropped(reader, dropped, 0)
        if pes is not None:
            self._pes(reader, pes)
        if not reader.video:
            self._adts.reset()

    def _dropped(self, reader: _EsPid, count: int, oversized: int) -> None:
        self.dropped_pes += count
        self.oversized_pes += oversized
        if not reader.video:
            self._adts.reset()  # a frame straddling into the lost PES cannot be finished

    def _pes(self, reader: _EsPid, pes: Pes) -> None:
        if reader.video:
            self._video_pes(pes)
        else:
            self._audio_pes(pes)

    def _video_pes(self, pes: Pes) -> None:
        header = pes.header
        state = self._video
        parser = state.parser
        if header is None or parser is None:
            return
        if header.pts is None or header.dts is None:
            self.dropped_pes += 1
            return
        unit = parser.access_unit(split_annex_b(pes.data))
        self.parameter_set_errors += unit.parameter_set_errors
        if unit.track is not None:
            self._events.append(TrackAnnounced(unit.track))
        if not unit.nals:
            return  # parameter sets alone, or nothing at all
        track = parser.track
        key = unit.keyframe
        if track is None or not (key or state.keyed):
            self.dropped_frames += 1
            return
        state.keyed = True
        timeline = state.timeline
        dts, pts = timeline.stamp(header.dts, timeline.difference(header.pts, header.dts),
                                  anchor=self._anchor)
        self._anchor = timeline.raw
        self._events.append(FrameReceived(Frame(track, dts, pts, key, unit.sample(),
                                                self._now)))

    def _audio_pes(self, pes: Pes) -> None:
        header = pes.header
        if header is None:
            return
        timeline = self._audio_timeline
        pts = None
        if header.pts is not None:
            pts = timeline.stamp(header.pts, anchor=self._anchor).dts
            self._anchor = timeline.raw
        elif self._adts.next_time is None:
            self.dropped_pes += 1  # no PTS, and no frame before it to continue from
            self._adts.reset()
            return
        result = self._adts.pes(memoryview(pes.data), pts)
        self.adts_errors += result.errors
        self.dropped_frames += result.multi_block_frames
        events = self._events
        now = self._now
        for frame in result.frames:
            if frame.announced is not None:
                events.append(TrackAnnounced(frame.announced))
            events.append(FrameReceived(Frame(frame.track, frame.pts, frame.pts, True, frame.raw,
                                              now)))
        last = result.last
        if last is not None:
            timeline.follow(last)
