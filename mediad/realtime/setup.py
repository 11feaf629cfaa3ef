"""The real-time services of one process, each on the app under its own key
(``keys.py``), started and stopped with it, and the routes that use them."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from mediad.auth import Tokens
from mediad.encoder_advice import AdviceSettings
from mediad.http.app import CONFIG, METRICS, PLAYBACK_OBSERVERS, REGISTRY, STORE, add_service
from mediad.metrics.viewers import ViewerCollector
from mediad.realtime import messages as m
from mediad.realtime.bus import Bus, make_bus
from mediad.realtime.chat import ChatCommands
from mediad.realtime.encoder_watch import EncoderWatch
from mediad.realtime.hub import Hub
from mediad.realtime.identity import Identities
from mediad.realtime.keys import (
    CHAT,
    ENCODER_WATCH,
    HUB,
    IDENTITIES,
    RECORDER,
    RELAY,
    SNAPSHOTS,
    STREAM_HEALTH,
    STREAM_STATUS,
    TIPS,
    VIEWERS,
)
from mediad.realtime.recorder import Recorder
from mediad.realtime.relay import Relay
from mediad.realtime.routes import add_routes
from mediad.realtime.snapshot import Snapshots
from mediad.realtime.stream_health import (
    PipelineLookup,
    QualityLookup,
    RecordingLookup,
    StreamHealth,
    WebRtcLookup,
)
from mediad.realtime.stream_status import StreamStatus
from mediad.realtime.text import BlockedWords
from mediad.realtime.tip_webhook import TipWebhook
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.realtime.viewers import REPORT, viewer_key


def setup_realtime(app: web.Application, tokens: Tokens, *,
                   pipelines: PipelineLookup = lambda stream_id: None, bus: Bus | None = None,
                   webrtc: WebRtcLookup = lambda stream_id: None,
                   recording: RecordingLookup = lambda stream_id: None,
                   quality: QualityLookup = lambda stream_id: None,
                   clock: Callable[[], float] = time.monotonic) -> None:
    config, store, registry = app[CONFIG], app[STORE], app[REGISTRY]
    bus = bus if bus is not None else make_bus(config.realtime)
    hub = Hub(store, config.realtime.flush_interval_ms, config.realtime.max_frames_per_sec)
    relay = Relay(bus, hub)
    recorder = Recorder(store, bus)
    viewers = ViewerCounts(bus.instance_id, recorder, hub, clock=clock)
    encoders = EncoderWatch(registry, AdviceSettings(
        max_ingest_kbps=config.streams.max_ingest_kbps,
        # Without a ladder, WHEP serves the source itself, which it cannot with B-frames.
        webrtc_playback=config.webrtc.enabled and not config.transcode.enabled))
    health = StreamHealth(config.realtime.health_interval_sec, store, registry, recorder,
                          viewers, pipelines=pipelines, advice=encoders.advice, webrtc=webrtc,
                          recording=recording, quality=quality, clock=clock)
    identities = Identities(tokens, store)
    relay.claim(REPORT, viewers.report_received)
    relay.watch(m.HEALTH, health.remember)

    # Started in this order, stopped in the reverse: the bus before the rest, the hub's
    # channels closed before the bus.
    add_service(app, RELAY, relay)
    add_service(app, HUB, hub)
    add_service(app, VIEWERS, viewers)
    add_service(app, ENCODER_WATCH, encoders)
    add_service(app, STREAM_HEALTH, health)
    add_service(app, STREAM_STATUS, StreamStatus(registry, recorder))
    app[RECORDER] = recorder
    app[IDENTITIES] = identities
    app[CHAT] = ChatCommands(store, config.chat, recorder, clock=clock)
    app[SNAPSHOTS] = Snapshots(store, config.chat, viewers)
    app[TIPS] = TipWebhook(config.tips, BlockedWords(config.chat.blocked_words), store,
                           recorder)

    def playback(stream_id: str, request: web.Request) -> None:
        viewers.seen(stream_id, viewer_key(identities.browser(request), request.remote,
                                           request.headers.get("User-Agent", "")),
                     player=True)

    app[PLAYBACK_OBSERVERS].append(playback)
    app[METRICS].add_collector(ViewerCollector(registry, viewers, hub, webrtc))
    add_routes(app)
