"""Analytics: player reports (validated, rate limited) and the per-stream figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediad.clock import now_ms
from mediad.config import ApiConfig
from mediad.metrics.quality_setup import PLAYER_QUALITY
from tests.mediad.api.conftest import ApiEnv, close_api_env, make_api_env


@pytest.mark.parametrize("body, bad", [
    ({}, "ttffMs"),
    ({"ttffMs": -1}, "ttffMs"),
    ({"ttffMs": 1.5}, "ttffMs"),
    ({"latencyMs": "fast"}, "latencyMs"),
    ({"ttffMs": 800, "rendition": "x" * 33}, "rendition"),
    ({"ttffMs": 800, "userAgent": "x"}, "userAgent"),
    ({"rendition": "720p", "sessionId": "a"}, "ttffMs"),  # no figure at all
    ({"bufferMs": -1}, "bufferMs"),
    ({"bufferMs": 600_001}, "bufferMs"),
    ({"throughputKbps": "fast"}, "throughputKbps"),
    ({"stalls": 1.5}, "stalls"),
    ({"stalls": True}, "stalls"),
    ({"watchedMs": 3_600_001}, "watchedMs"),
    ({"watchedMs": 1000, "sessionId": ""}, "sessionId"),
    ({"watchedMs": 1000, "sessionId": "s" * 65}, "sessionId"),
    ({"watchedMs": 1000, "sessionId": 7}, "sessionId"),
])
async def test_player_reports_are_validated(env: ApiEnv, body: dict, bad: str) -> None:
    status, reply = await env.call("POST", f"/api/streams/{env.stream.id}/metrics", json=body)
    assert status == 422 and list(reply["fields"]) == [bad]


async def test_player_reports_are_rate_limited_per_address(tmp_path: Path) -> None:
    env = await make_api_env(tmp_path, api=ApiConfig(metrics_per_minute_per_ip=2))
    try:
        path = f"/api/streams/{env.stream.id}/metrics"
        assert [(await env.call("POST", path, json={"ttffMs": 900}))[0] for _ in range(3)] == [
            202, 202, 429]
    finally:
        await close_api_env(env)


async def test_analytics_sums_up_viewers_chat_tips_and_join_times(env: ApiEnv) -> None:
    stream = env.stream.id
    now = now_ms()
    for i, viewers in enumerate([3, 10, 7, 0]):
        await env.store.health.add(stream, now - 60_000 + i * 5000, 2500.0, 30.0, 0.0, viewers)
    await env.store.health.add(stream, now - 48 * 3_600_000, 1.0, 1.0, 0.0, 999)  # too old
    for text in ("hi", "hello"):
        assert (await env.call("POST", f"/api/streams/{stream}/chat", "viewer",
                               json={"text": text}))[0] == 201
    await env.store.tips.add(stream, "k1", 500, "EUR", "Ada", "", now)
    await env.store.tips.add(stream, "k2", 250, "EUR", "Bob", "", now)
    await env.store.tips.add(stream, "k3", 100, "USD", "Cy", "", now)
    for ttff in (700, 900, 1200):
        await env.call("POST", f"/api/streams/{stream}/metrics", json={"ttffMs": ttff})
    await env.call("POST", f"/api/streams/{stream}/metrics", json={"latencyMs": 2100})
    status, body = await env.call("GET", f"/api/streams/{stream}/analytics?hours=24", "creator")
    assert status == 200
    assert [p["viewers"] for p in body["viewers"]["series"]] == [3, 10, 7, 0]
    assert body["viewers"]["peak"] == 10 and body["viewers"]["average"] == 5.0
    assert body["chatMessages"] == 2
    assert body["tips"] == {"count": 3, "totals": [
        {"currency": "EUR", "amountMinor": 750, "count": 2},
        {"currency": "USD", "amountMinor": 100, "count": 1}]}
    assert body["joinTime"] == {"reports": 3, "p50Ms": 900, "p90Ms": 1200}
    assert body["latency"]["p50Ms"] == 2100
    assert (await env.call("GET", f"/api/streams/{stream}/analytics?hours=0", "creator"))[0] == 400


async def test_quality_reports_reach_the_live_aggregate_not_the_store(env: ApiEnv) -> None:
    stream = env.stream.id
    path = f"/api/streams/{stream}/metrics"
    assert (await env.call("POST", path, json={
        "ttffMs": 900, "sessionId": "sid-1", "rendition": "720p"}))[0] == 202
    assert (await env.call("POST", path, json={
        "sessionId": "sid-1", "rendition": "720p", "bufferMs": 2400, "throughputKbps": 9000,
        "stalls": 2, "watchedMs": 30_000}))[0] == 202
    assert (await env.call("POST", path, json={
        "sessionId": "sid-2", "rendition": "480p", "bufferMs": 800, "stalls": 0,
        "watchedMs": 30_000}))[0] == 202
    figures = env.client.app[PLAYER_QUALITY].quality(stream)
    assert figures is not None
    assert (figures.sessions, figures.renditions) == (2, {"720p": 1, "480p": 1})
    assert (figures.stalls, figures.viewing_sec) == (2, 60.0)
    assert figures.stalls_per_viewer_minute == 2.0
    assert figures.buffer_sec == pytest.approx(0.8, rel=0.03)  # the lower middle of two
    # Only the join time is stored: quality figures live in the aggregate.
    assert await env.store.player_metrics.values(stream, "ttff_ms", 0) == [900]


async def test_quality_reports_share_the_per_address_limit(tmp_path: Path) -> None:
    env = await make_api_env(tmp_path, api=ApiConfig(metrics_per_minute_per_ip=2))
    try:
        path = f"/api/streams/{env.stream.id}/metrics"
        body = {"sessionId": "s", "stalls": 0, "watchedMs": 1000}
        statuses = [(await env.call("POST", path, json=body))[0] for _ in range(3)]
        assert statuses == [202, 202, 429]
    finally:
        await close_api_env(env)
