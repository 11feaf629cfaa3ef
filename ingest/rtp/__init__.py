"""What a WebRTC publish becomes in the media model, without sockets or clocks: RTP
timestamps onto one media axis for every track (``clock.py``), depacketized access units
into ``TrackInfo`` and ``Frame`` (``frames.py``). The daemon's aiortc glue feeds them."""
