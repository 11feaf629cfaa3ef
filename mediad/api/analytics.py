"""Analytics of a stream: the viewer series, chat and tips, and what players report of
their join time (time to first frame) and their distance to the live edge."""

from __future__ import annotations

from aiohttp import web

from mediad.api.context import API, find_stream, managed_stream, too_many
from mediad.api.validation import ABSENT, Fields
from mediad.clock import iso_utc, now_ms
from mediad.http.jsonio import query_int, read_object, reply

MAX_TTFF_MS = 120_000
MAX_LATENCY_MS = 3_600_000


def setup_analytics(app: web.Application) -> None:
    app.router.add_post("/api/streams/{stream}/metrics", report_metrics)
    app.router.add_get("/api/streams/{stream}/analytics", analytics)


async def report_metrics(request: web.Request) -> web.Response:
    """Players post ``{"ttffMs", "latencyMs", "rendition"}``, anonymously (so per address
    rate-limited): a join reports its time to first frame, a session its latency."""
    api = request.app[API]
    stream = await find_stream(request)
    wait = api.metrics.acquire(request.remote or "unknown", api.clock())
    if wait:
        raise too_many(wait, "reports")
    fields = Fields(await read_object(request, 2048), {"ttffMs", "latencyMs", "rendition"})
    ttff = fields.integer("ttffMs", 0, MAX_TTFF_MS)
    latency = fields.integer("latencyMs", 0, MAX_LATENCY_MS)
    rendition = fields.text("rendition", max_length=32, default="")
    if ttff is ABSENT and latency is ABSENT and not fields.errors:
        fields.errors["ttffMs"] = "a report needs ttffMs or latencyMs"
    fields.done()
    async with api.store.transaction():
        await api.store.player_metrics.add(stream.id, now_ms(), None if ttff is ABSENT else ttff,
                                           None if latency is ABSENT else latency, rendition)
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
