"""Wiring of the player-quality aggregate: on the app (``PLAYER_QUALITY``, which the
reports' route and the health service read), its collector, and the CMCD of every answered
``/hls/`` request."""

from __future__ import annotations

import logging

from aiohttp import web

from mediad.background import Periodic
from mediad.http.app import METRICS, add_service
from mediad.metrics.cmcd import CmcdError, request_cmcd
from mediad.metrics.quality import PlayerQuality
from mediad.metrics.quality_collector import IsLive, QualityCollector
from mediad.stream_pipelines import StreamPipelines

log = logging.getLogger("mediad.metrics")

PLAYER_QUALITY = web.AppKey("player_quality", PlayerQuality)
PRUNE_INTERVAL_SEC = 10.0


class QualityPruner:
    """Forgets ended streams and silent sessions every few seconds, scraped or not (the
    health panel's figures are per broadcast)."""

    def __init__(self, quality: PlayerQuality, is_live: IsLive,
                 interval_sec: float = PRUNE_INTERVAL_SEC) -> None:
        async def prune() -> None:
            quality.prune(is_live)
        self._periodic = Periodic(prune, interval_sec, log=log,
                                  failure="player quality pruning failed")

    async def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


QUALITY_PRUNER = web.AppKey("quality_pruner", QualityPruner)


def setup_quality(app: web.Application, is_live: IsLive,
                  quality: PlayerQuality | None = None) -> PlayerQuality:
    quality = quality if quality is not None else PlayerQuality()
    app[PLAYER_QUALITY] = quality
    app[METRICS].add_collector(QualityCollector(quality, is_live))
    add_service(app, QUALITY_PRUNER, QualityPruner(quality, is_live))

    async def observe(request: web.Request, response: web.StreamResponse) -> None:
        # Answered requests only: an error names no stream that exists, or no playback.
        if not request.path.startswith("/hls/") or response.status >= 400:
            return
        stream_id = request.match_info.get("stream")
        if stream_id is None:
            return
        try:
            cmcd = request_cmcd(request.headers, request.query)
        except CmcdError as exc:
            log.debug("CMCD ignored", extra={"fields": {"stream": stream_id,
                                                        "reason": str(exc)}})
            return
        if cmcd is not None:
            quality.observe_cmcd(stream_id, cmcd.session_id or session_key(request), cmcd,
                                 request.match_info.get("rendition"))

    app.on_response_prepare.append(observe)
    return quality


def live_in(pipelines: StreamPipelines) -> IsLive:
    """Live: the stream has a pipeline that has not ended (ENDLIST)."""
    def is_live(stream_id: str) -> bool:
        pipeline = pipelines.get(stream_id)
        return pipeline is not None and not pipeline.ended
    return is_live


def quality_message(quality: PlayerQuality, stream_id: str) -> dict[str, object] | None:
    """The health message's ``quality`` field, None before any player was heard from."""
    figures = quality.quality(stream_id)
    return None if figures is None else figures.as_message()


def session_key(request: web.Request) -> str:
    """A player without a CMCD ``sid`` or a report ``sessionId``: its address and agent."""
    return f"{request.remote or '?'} {request.headers.get('User-Agent', '')[:128]}"
