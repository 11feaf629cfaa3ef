"""WebRTC through aiortc: WHIP publishers (one more ingest) and WHEP viewers (one more
reader). aiortc is I/O glue, not a sans-IO core; what is pure (RTP clocks, access units to
frames) lives in ``ingest/rtp/``."""
