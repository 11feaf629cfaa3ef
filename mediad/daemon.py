"""The daemon's life: open the store, start HTTP and the ingest servers, stop them cleanly."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from mediad.api import ApiContext, setup_api
from mediad.auth import Tokens
from mediad.bootstrap import banner, bootstrap_if_empty
from mediad.config import Config
from mediad.descriptors import raise_descriptor_limit
from mediad.failover import Failover
from mediad.freed_memory import freeze_startup_objects
from mediad.housekeeping import HOUSEKEEPING, Housekeeping, Retention
from mediad.http.app import METRICS, add_service, create_app
from mediad.http.forwarded import TrustedProxies
from mediad.http.hls import setup_hls
from mediad.http.limits import (
    GuardedSite,
    HttpConnectionLimits,
    HttpLimitSettings,
    limits_middleware,
)
from mediad.http.web import setup_web
from mediad.metrics.ingest import add_ingest_collectors
from mediad.metrics.quality_setup import live_in, quality_message, setup_quality
from mediad.metrics.setup import setup_metrics
from mediad.realtime.keys import RECORDER, VIEWERS
from mediad.realtime.setup import setup_realtime
from mediad.realtime.stream_health import WebRtcLookup
from mediad.reconnect_grace import ReconnectGrace
from mediad.recording.setup import setup_recording
from mediad.sd_notify import notify, reloading
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines, track_check
from mediad.streams import StreamRegistry
from mediad.thumbnails import Thumbnails, has_picture, setup_thumbnails
from mediad.tls import ServerTls
from mediad.urls import Ports

if TYPE_CHECKING:
    from ingest.rtmp.server import RtmpServer
    from mediad.webrtc.context import WebRtcContext

log = logging.getLogger("mediad")


class Service(Protocol):
    """A listener that runs beside HTTP (the RTMP and SRT servers)."""

    name: str

    async def start(self) -> int:
        """Start listening; return the bound port."""

    async def stop(self) -> None:
        """Stop accepting, close every connection, and return when they are gone."""


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.store: Store | None = None
        self.registry: StreamRegistry | None = None
        self.pipelines: StreamPipelines | None = None
        self.grace: ReconnectGrace | None = None
        self.webrtc: WebRtcContext | None = None
        self.runner: web.AppRunner | None = None
        self.services: list[Service] = []
        self.tls: ServerTls | None = None
        """HTTPS/WSS and RTMPS contexts; ``reload`` (SIGHUP) reads the files again."""
        self._rtmp: RtmpServer | None = None
        self.ports = Ports(config.server.http_port, config.rtmp.port, config.srt.port)
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        config = self.config
        self.tls = ServerTls.from_config(config.server)
        descriptors = raise_descriptor_limit()
        log.info("descriptor limit", extra={"fields": {
            "soft": descriptors.soft, "hard": descriptors.hard, "was": descriptors.was,
            "reserve": config.server.descriptor_reserve}})
        self.store = await Store.open(config.storage.database_path, background_checkpoints=True)
        first_start = await bootstrap_if_empty(self.store, config)
        self.registry = StreamRegistry(self.store, auto_live=config.streams.auto_live,
                                       refuse_track=track_check(config.transcode),
                                       failover=Failover.from_config(config.streams))
        self.services = self._ingest_services(self.registry)
        self.grace = ReconnectGrace(self.registry, self.store,
                                    config.streams.reconnect_grace_sec)
        await self.grace.start()
        self.pipelines = StreamPipelines(
            config.hls, self.registry, self.store, transcode=config.transcode,
            preview_grace_sec=config.streams.reconnect_grace_sec)
        await self.pipelines.start()
        app = create_app(config, self.store, self.registry)
        setup_metrics(app, config.metrics)
        setup_hls(app, self.pipelines)
        quality = setup_quality(app, live_in(self.pipelines))
        add_ingest_collectors(app[METRICS], self.registry, self.services)
        setup_thumbnails(app, Thumbnails(self.pipelines, config.thumbnails))
        recorder = setup_recording(app, config, self.store, self.registry, self.pipelines)
        webrtc_health: WebRtcLookup = _no_webrtc
        if config.webrtc.enabled:
            from mediad.webrtc.setup import setup_webrtc
            from mediad.webrtc.whep import WHEP_FEEDS

            self.webrtc = setup_webrtc(app, config, self.store, self.registry, self.pipelines,
                                       descriptor_limit=descriptors.soft)
            webrtc_health = app[WHEP_FEEDS].health_message
        setup_web(app)
        tokens = Tokens.from_config(config)
        setup_realtime(app, tokens, pipelines=self.pipelines.get, webrtc=webrtc_health,
                       recording=recorder.health,
                       quality=lambda stream_id: quality_message(quality, stream_id))
        add_service(app, HOUSEKEEPING, Housekeeping(self.store, Retention.from_config(config)))
        pipelines = self.pipelines
        setup_api(app, ApiContext(config, self.store, self.registry, tokens, app[VIEWERS],
                                  app[RECORDER], ports=lambda: self.ports,
                                  pictures=lambda stream_id: has_picture(pipelines, stream_id)))
        limits = HttpConnectionLimits(
            _limit_settings(config, descriptors.soft), self._request_handler)
        app.middlewares.insert(0, limits_middleware(limits))
        self.runner = web.AppRunner(app, shutdown_timeout=config.server.shutdown_timeout_sec,
                                    handle_signals=False, access_log=None,
                                    keepalive_timeout=config.server.idle_timeout_sec)
        await self.runner.setup()
        # A deep accept queue: thousands of viewers reconnect at once after a network blip.
        site = GuardedSite(self.runner, config.server.host, config.server.http_port, limits,
                           backlog=4096, tls=self.tls.http if self.tls else None,
                           handshake_timeout=config.server.header_timeout_sec)
        await site.start()
        http_port = _bound_port(self.runner) or config.server.http_port
        bound = {service.name: await service.start() for service in self.services}
        rtmps = self._rtmp.tls_port if self._rtmp and self._rtmp.tls else 0
        self.ports = Ports(http_port, bound.get("rtmp", config.rtmp.port),
                           bound.get("srt", config.srt.port), rtmps)
        log.info("listening", extra={"fields": {
            "host": config.server.host, "http_port": self.ports.http,
            **{f"{name}_port": port for name, port in bound.items()},
            **({"rtmps_port": rtmps} if rtmps else {}), "tls": self.tls is not None,
        }})
        if first_start is not None:
            sys.stdout.write(banner(first_start, config, self.ports))
            sys.stdout.flush()
        freeze_startup_objects()

    def _request_handler(self) -> asyncio.Protocol:
        """aiohttp's protocol for one admitted HTTP connection."""
        assert self.runner is not None and self.runner.server is not None
        return self.runner.server()

    def _ingest_services(self, registry: StreamRegistry) -> list[Service]:
        config = self.config
        services: list[Service] = []
        if config.rtmp.enabled:
            from ingest.rtmp.server import RtmpServer

            self._rtmp = RtmpServer(dataclasses.replace(config.rtmp, host=config.server.host),
                                    registry, refusal_interval=config.server.cap_log_interval_sec,
                                    tls=self.tls.rtmp if self.tls else None,
                                    tls_port=config.rtmp.tls_port)
            services.append(self._rtmp)
        if config.srt.enabled:
            from ingest.srt.server import SrtServer

            srt = dataclasses.replace(config.srt, host=config.server.host, app=config.srt_app)
            services.append(SrtServer(srt, registry, self._srt_passphrase))
        return services

    async def _srt_passphrase(self, key: str) -> str | None:
        """The stream's SRT passphrase ("" for none) for a valid key, None otherwise."""
        assert self.store is not None
        found = await self.store.keys.find(key)
        if found is None:
            return None
        stream = await self.store.streams.get(found.stream_id)
        return None if stream is None else stream.srt_passphrase

    def status_line(self) -> str:
        """What ``systemctl status`` shows while serving."""
        ports = self.ports
        listening = [f"http {ports.http}"] + [
            f"{name} {port}" for name, port in (("rtmp", ports.rtmp), ("srt", ports.srt))
            if any(service.name == name for service in self.services)]
        if ports.rtmps:
            listening.append(f"rtmps {ports.rtmps}")
        return "serving: " + ", ".join(listening)

    def reload(self) -> None:
        """SIGHUP: read the TLS certificate and key again; new handshakes get them, open
        connections keep theirs, and a bad file keeps the one in use (logged)."""
        if self.tls is None:
            log.info("reload (SIGHUP): nothing to reload (no server.tls_cert)")
            return
        self.tls.reload()

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait_stopped(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        """Close listeners first, then let in-flight requests and store writes finish."""
        log.info("shutting down")
        if self.webrtc is not None:
            await self.webrtc.sessions.close_all()  # WHIP publishers detach, WHEP viewers go
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                log.exception("error stopping service", extra={"fields": {"service": service.name}})
        if self.pipelines is not None:
            await self.pipelines.stop()  # ENDLIST wakes every blocked playlist request
        if self.grace is not None:
            await self.grace.stop()  # a restart gives on-air streams their grace again
        if self.registry is not None:
            await self.registry.close()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.store is not None:
            await self.store.close()
        log.info("stopped")


def _no_webrtc(stream_id: str) -> None:
    return None


def _limit_settings(config: Config, descriptor_limit: int) -> HttpLimitSettings:
    server = config.server
    return HttpLimitSettings(
        header_timeout=server.header_timeout_sec, idle_timeout=server.idle_timeout_sec,
        per_address=server.max_connections_per_address,
        uncapped=TrustedProxies(server.trusted_proxies).trusts, descriptor_limit=descriptor_limit,
        reserve=server.descriptor_reserve, log_interval=server.cap_log_interval_sec)


def _bound_port(runner: web.AppRunner) -> int | None:
    """The HTTP port really bound (``http_port = 0`` picks a free one)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


def _reload(daemon: Daemon) -> None:
    """SIGHUP, told to systemd: RELOADING=1 while the files are read, READY=1 after."""
    reloading("reloading the TLS certificate")
    daemon.reload()
    notify("READY=1", f"STATUS={daemon.status_line()}")


async def serve(config: Config) -> None:
    daemon = Daemon(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, daemon.request_stop)
    loop.add_signal_handler(signal.SIGHUP, _reload, daemon)
    try:
        await daemon.start()
        notify("READY=1", f"STATUS={daemon.status_line()}")  # every listener is up
        await daemon.wait_stopped()
    finally:
        notify("STOPPING=1", "STATUS=shutting down")
        await daemon.stop()
