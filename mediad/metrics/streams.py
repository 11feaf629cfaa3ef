"""Per-stream and per-rendition state, read from the registry and the packaging at scrape
time (``mediad_stream_*``, ``mediad_rendition_*``).

A stream is present while it is on: not ``ended``, and publishing, on air (waiting for its
encoder through the reconnect grace) or still packaging (a preview's playlists waiting for
their publisher). Anything else yields nothing, so an ended or deleted stream's series
vanish at the next scrape and the label sets are bounded by the streams that are on.

Where the figures come from:
- ingest bytes, frames: ``LiveStream.stats``, the stream's running totals for the active
  publisher's media since the daemon loaded the stream. They continue across reconnects,
  takeovers and broadcasts (nothing is received while a stream is off, so a series that
  comes back continues where it stopped). Bytes are what the ingest read from the
  publisher: RTMP's TCP stream once the publish began, SRT's MPEG-TS payloads, WHIP's RTP
  payloads.
- dropped frames: frames the stream's readers (packaging, recorder, WebRTC) received but
  dropped because they fell behind (``LiveStream.dropped_frames``, as the health channel).
- source fps and bit rate: measured from the active publisher's counters
  (``source_rate.py``); 0 without a publisher.
- per rendition: the segmenter's parts and segments (the rendition's own: a rendition made
  anew starts from 0); for the transcoded renditions, the encoders' counters summed over
  every encoder the stream had (``StreamPipeline.health``) and the pictures queued now. The
  copied ``source`` (and a copied AAC ``audio``) has no encoder figures.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mediad.lifecycle import ON_AIR
from mediad.metrics.source_rate import SourceRates
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import LiveStream
from packager.pipeline import StreamPipeline

__all__ = ["StreamCollector", "present"]

STREAM = ["stream"]
RENDITION = ["stream", "rendition"]


def present(live: LiveStream, pipeline: StreamPipeline | None) -> bool:
    """Whether the stream is on: its series exist."""
    if live.state == "ended":
        return False
    return (live.publishing or live.state in ON_AIR
            or (pipeline is not None and not pipeline.ended))


class _StreamFamilies:
    def __init__(self) -> None:
        self.info = GaugeMetricFamily(
            "mediad_stream_info", "A stream that is on (1): its publisher's protocol (none: "
            "no publisher now) and lifecycle state.", labels=["stream", "protocol", "state"])
        self.bytes = CounterMetricFamily(
            "mediad_stream_ingest_bytes", "Media bytes received from the stream's active "
            "publishers (continues across reconnects).", labels=STREAM)
        self.frames = CounterMetricFamily(
            "mediad_stream_ingest_frames", "Frames received from the stream's active "
            "publishers, by kind.", labels=["stream", "kind"])
        self.dropped = CounterMetricFamily(
            "mediad_stream_ingest_frames_dropped", "Frames received but dropped by a reader "
            "of the stream that fell behind (packaging, recorder, WebRTC).", labels=STREAM)
        self.fps = GaugeMetricFamily(
            "mediad_stream_source_fps", "Video frames per second the active publisher sends.",
            labels=STREAM)
        self.bitrate = GaugeMetricFamily(
            "mediad_stream_source_bitrate_bps", "Bits per second the active publisher sends.",
            labels=STREAM)
        self.reconnects = CounterMetricFamily(
            "mediad_stream_publisher_reconnects", "Publishers that attached after the "
            "broadcast had lost its previous one.", labels=STREAM)
        self.takeovers = CounterMetricFamily(
            "mediad_stream_takeovers", "Publishers that took over from the active one (hot "
            "standby promoted, stalled connection replaced).", labels=STREAM)

    def all(self) -> tuple[Metric, ...]:
        return (self.info, self.bytes, self.frames, self.dropped, self.fps, self.bitrate,
                self.reconnects, self.takeovers)


class _RenditionFamilies:
    def __init__(self) -> None:
        self.parts = CounterMetricFamily(
            "mediad_rendition_parts", "LL-HLS parts the rendition published.",
            labels=RENDITION)
        self.segments = CounterMetricFamily(
            "mediad_rendition_segments", "Segments the rendition completed.", labels=RENDITION)
        self.queue = GaugeMetricFamily(
            "mediad_rendition_encoder_queue_depth", "Pictures (audio: frames) waiting before "
            "the rendition's encoder now.", labels=RENDITION)
        self.dropped = CounterMetricFamily(
            "mediad_rendition_pictures_dropped", "Pictures (audio: frames) dropped before the "
            "rendition's encoder because it was behind.", labels=RENDITION)
        self.encoded = CounterMetricFamily(
            "mediad_rendition_pictures_encoded", "Pictures (audio: packets) the rendition's "
            "encoder produced.", labels=RENDITION)
        self.seconds = CounterMetricFamily(
            "mediad_rendition_encode_seconds", "Time the rendition's encoder thread spent "
            "scaling and encoding (per picture: rate of this over rate of pictures encoded).",
            labels=RENDITION)

    def all(self) -> tuple[Metric, ...]:
        return (self.parts, self.segments, self.queue, self.dropped, self.encoded,
                self.seconds)


class StreamCollector(Collector):
    def __init__(self, pipelines: StreamPipelines) -> None:
        self._pipelines = pipelines
        self._rates = SourceRates()

    def collect(self) -> Iterable[Metric]:
        streams = _StreamFamilies()
        renditions = _RenditionFamilies()
        for live in self._pipelines.registry.live_streams():
            pipeline = self._pipelines.get(live.stream_id)
            if not present(live, pipeline):
                continue
            self._stream(live, streams)
            if pipeline is not None and not pipeline.ended:
                _renditions(live.stream_id, pipeline, renditions)
        yield from streams.all()
        yield from renditions.all()

    def _stream(self, live: LiveStream, out: _StreamFamilies) -> None:
        stream = [live.stream_id]
        publisher = live.publisher
        out.info.add_metric([live.stream_id, publisher.protocol if publisher else "none",
                             live.state], 1.0)
        stats = live.stats
        out.bytes.add_metric(stream, stats.bytes)
        out.frames.add_metric([live.stream_id, "video"], stats.video_frames)
        out.frames.add_metric([live.stream_id, "audio"], stats.frames - stats.video_frames)
        out.dropped.add_metric(stream, live.dropped_frames)
        fps = bps = 0.0
        if publisher is not None:
            rate = self._rates.read(publisher, live.clock())
            fps, bps = rate.fps, rate.bits_per_second
        out.fps.add_metric(stream, fps)
        out.bitrate.add_metric(stream, bps)
        out.reconnects.add_metric(stream, stats.reconnects)
        out.takeovers.add_metric(stream, stats.takeovers)


def _renditions(stream_id: str, pipeline: StreamPipeline, out: _RenditionFamilies) -> None:
    health = pipeline.health()
    encoders = pipeline.encoders
    waiting = encoders.ladder.waiting() if encoders.ladder is not None else {}
    if encoders.audio is not None:
        waiting["audio"] = encoders.audio.waiting()
    for name, member in pipeline.renditions.items():
        labels = [stream_id, name]
        out.parts.add_metric(labels, member.stats.parts)
        out.segments.add_metric(labels, member.stats.segments)
        if name not in health.encoded:
            continue  # copied: no encoder
        out.queue.add_metric(labels, waiting.get(name, 0))
        out.dropped.add_metric(labels, health.dropped_pictures.get(name, 0))
        out.encoded.add_metric(labels, health.encoded[name])
        out.seconds.add_metric(labels, health.encode_seconds.get(name, 0.0))
