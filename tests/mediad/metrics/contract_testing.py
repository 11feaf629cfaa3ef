"""The metrics contract of issue 20 as data: every series name, its type and its labels.
The Grafana dashboard may use only these; the real-Prometheus test expects them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Series:
    kind: str
    """counter, gauge or histogram."""
    labels: tuple[str, ...] = ()


CONTRACT: dict[str, Series] = {
    # Part A: streams, renditions, LL-HLS, SRT, RTMP
    "mediad_stream_info": Series("gauge", ("stream", "protocol", "state")),
    "mediad_stream_ingest_bytes_total": Series("counter", ("stream",)),
    "mediad_stream_ingest_frames_total": Series("counter", ("stream", "kind")),
    "mediad_stream_ingest_frames_dropped_total": Series("counter", ("stream",)),
    "mediad_stream_source_fps": Series("gauge", ("stream",)),
    "mediad_stream_source_bitrate_bps": Series("gauge", ("stream",)),
    "mediad_stream_publisher_reconnects_total": Series("counter", ("stream",)),
    "mediad_stream_takeovers_total": Series("counter", ("stream",)),
    "mediad_rendition_parts_total": Series("counter", ("stream", "rendition")),
    "mediad_rendition_segments_total": Series("counter", ("stream", "rendition")),
    "mediad_rendition_encoder_queue_depth": Series("gauge", ("stream", "rendition")),
    "mediad_rendition_pictures_dropped_total": Series("counter", ("stream", "rendition")),
    "mediad_rendition_encode_seconds_total": Series("counter", ("stream", "rendition")),
    "mediad_rendition_pictures_encoded_total": Series("counter", ("stream", "rendition")),
    "mediad_hls_requests_total": Series("counter", ("kind", "status")),
    "mediad_hls_blocking_wait_seconds": Series("histogram"),
    "mediad_hls_wakeup_delay_seconds": Series("histogram"),
    "mediad_srt_rtt_seconds": Series("gauge", ("stream",)),
    "mediad_srt_packets_received_total": Series("counter", ("stream",)),
    "mediad_srt_packets_lost_total": Series("counter", ("stream",)),
    "mediad_srt_packets_retransmitted_total": Series("counter", ("stream",)),
    "mediad_srt_packets_dropped_late_total": Series("counter", ("stream",)),
    "mediad_rtmp_connections": Series("gauge", ("state",)),
    "mediad_rtmp_connections_accepted_total": Series("counter"),
    "mediad_rtmp_connections_refused_total": Series("counter"),
    # Part B: viewers, realtime, store
    "mediad_viewers": Series("gauge", ("stream", "protocol")),
    "mediad_websocket_connections": Series("gauge"),
    "mediad_chat_messages_total": Series("counter"),
    "mediad_ratelimit_refusals_total": Series("counter", ("limit",)),
    "mediad_moderation_actions_total": Series("counter", ("action",)),
    "mediad_tips_total": Series("counter", ("currency",)),
    "mediad_tips_amount_total": Series("counter", ("currency",)),
    "mediad_store_query_seconds": Series("histogram"),
    "mediad_store_checkpoint_seconds": Series("histogram"),
    # Part C: player quality
    "mediad_player_sessions": Series("gauge", ("stream",)),
    "mediad_player_rendition_sessions": Series("gauge", ("stream", "rendition")),
    "mediad_player_stalls_total": Series("counter", ("stream",)),
    "mediad_player_viewing_seconds_total": Series("counter", ("stream",)),
    "mediad_player_buffer_seconds": Series("gauge", ("stream",)),
    "mediad_player_throughput_bps": Series("gauge", ("stream",)),
    "mediad_player_startup_seconds": Series("histogram"),
    "mediad_player_latency_seconds": Series("histogram"),
    # Core, and prometheus_client's process collector
    "mediad_build_info": Series("gauge", ("version",)),
    "mediad_event_loop_lag_seconds": Series("histogram"),
    "process_cpu_seconds_total": Series("counter"),
    "process_resident_memory_bytes": Series("gauge"),
    "process_open_fds": Series("gauge"),
    "process_max_fds": Series("gauge"),
    "process_start_time_seconds": Series("gauge"),
}

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exposed_names(name: str) -> tuple[str, ...]:
    """The sample names a contract series appears under in the text format."""
    series = CONTRACT[name]
    if series.kind == "histogram":
        return tuple(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return (name,)


def all_exposed_names() -> frozenset[str]:
    return frozenset(n for name in CONTRACT for n in exposed_names(name))
