"""Analytics of a stream: the viewer series, chat and tips, and what players report of
their join time (time to first frame), their distance to the live edge and their playback
quality (buffer, throughput, rendition, stalls: the live aggregate of ``PLAYER_QUALITY``,
which the metrics and the control room's health panel show)."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import API, find_stream, managed_stream, too_many
from mediad.api.validation import ABSENT, Fields
from mediad.clock import iso_utc, now_ms
from mediad.http.jsonio import query_int, read_object, reply
from mediad.metrics.quality import QualityReport
from mediad.metrics.quality_setup import PLAYER_QUALITY, session_key

MAX_TTFF_MS = 120_000
MAX_LATENCY_MS = 3_600_000
MAX_BUFFER_MS = 600_000
MAX_THROUGHPUT_KBPS = 100_000_000
MAX_STALLS = 10_000
MAX_WATCHED_MS = 3_600_000
REPORT_FIELDS = {"ttffMs", "latencyMs", "rendition", "sessionId", "bufferMs",
                 "throughputKbps", "stalls", "watchedMs"}
FIGURES = REPORT_FIELDS - {"rendition", "sessionId"}


def setup_analytics(app: web.Application) -> None:
    app.router.add_post("/api/streams/{stream}/metrics", report_metrics)
    app.router.add_get("/api/streams/{stream}/analytics", analytics)


async def report_metrics(request: web.Request) -> web.Response:
    """Players post, anonymously (so per address rate-limited), any of: ``ttffMs`` (a join's
    time to first frame), ``latencyMs`` (a session's distance to the live edge) and, now and
    then, ``bufferMs``, ``throughputKbps``, ``stalls`` and ``watchedMs`` (stalls and time
    playing since the session's previous report), with ``rendition`` and the ``sessionId``
    its CMCD carries. Join time and latency are stored; everything goes to the live
    aggregate."""
    api = request.app[API]
    stream = await find_stream(request)
    wait = api.metrics.acquire(request.remote or "unknown", api.clock())
    if wait:
        raise too_many(wait, "reports")
    body = await read_object(request, 2048)
    fields = Fields(body, REPORT_FIELDS)
    ttff = fields.integer("ttffMs", 0, MAX_TTFF_MS)
    latency = fields.integer("latencyMs", 0, MAX_LATENCY_MS)
    rendition = fields.text("rendition", max_length=32, default="")
    session_id = fields.text("sessionId", min_length=1, max_length=64, default=None)
    buffer = fields.integer("bufferMs", 0, MAX_BUFFER_MS, default=None)
    throughput = fields.integer("throughputKbps", 0, MAX_THROUGHPUT_KBPS, default=None)
    stalls = fields.integer("stalls", 0, MAX_STALLS, default=None)
    watched = fields.integer("watchedMs", 0, MAX_WATCHED_MS, default=None)
    if not FIGURES & body.keys() and not fields.errors:
        fields.errors["ttffMs"] = "a report needs ttffMs, latencyMs or a quality figure"
    fields.done()
    ttff_ms = None if ttff is ABSENT else ttff
    latency_ms = None if latency is ABSENT else latency
    if ttff_ms is not None or latency_ms is not None:
        async with api.store.transaction():
            await api.store.player_metrics.add(stream.id, now_ms(), ttff_ms, latency_ms,
                                               rendition)
    quality = request.app.get(PLAYER_QUALITY)
    if quality is not None:
        quality.observe_report(stream.id, session_key(request), QualityReport(
            session_id=session_id, ttff_ms=ttff_ms, latency_ms=latency_ms,
            rendition=rendition, buffer_ms=buffer, throughput_kbps=throughput,
            stalls=stalls, watched_ms=watched))
    return web.Response(status=202)


def _quantile(ordered: list[int], q: float) -> int | None:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


async def analytics(request: web.Request) -> web.Response:
    api = request.app[API]
    stream, _ = await managed_stream(request)
    since = now_ms() - query_int(request, "hours", 24, 1, 24 * 30) * 3_600_000
    store = api.store
    samples = await store.health.since(stream.id, since)
    counts = [viewers for _, _, _, _, viewers in samples]
    ttff = await store.player_metrics.values(stream.id, "ttff_ms", since)
    latency = await store.player_metrics.values(stream.id, "latency_ms", since)
    tips = await store.tips.totals(stream.id, since)
    return reply({
        "streamId": stream.id,
        "since": iso_utc(since),
        "viewers": {
            "series": [{"at": iso_utc(at), "viewers": v} for at, _, _, _, v in samples],
            "peak": max(counts, default=0),
            "average": round(sum(counts) / len(counts), 2) if counts else 0.0,
        },
        "chatMessages": await store.chat.count(stream.id, since),
        "tips": {"count": sum(n for _, n in tips.values()),
                 "totals": [{"currency": c, "amountMinor": total, "count": n}
                            for c, (total, n) in tips.items()]},
        "joinTime": {"reports": len(ttff), "p50Ms": _quantile(ttff, 0.5),
                     "p90Ms": _quantile(ttff, 0.9)},
        "latency": {"reports": len(latency), "p50Ms": _quantile(latency, 0.5),
                    "p90Ms": _quantile(latency, 0.9)},
    })
