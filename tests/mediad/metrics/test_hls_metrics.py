"""LL-HLS request metrics from real requests to a real pipeline fed with real encoded frames:
answers by kind and status, the hold of blocking requests and their wake-up delay, and the
503 of a hold that timed out."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from mediad.config import Config
from mediad.http.app import METRICS, create_app
from mediad.http.hls import setup_hls
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from tests.mediad.hls_env_testing import HlsEnv, ready_pipeline
from tests.packager.packager_testing import Source, encode_source

STREAM = "hlsmetrics01"


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=6, b_frames=0)


def value(env: HlsEnv, name: str, **labels: str) -> float:
    found = env.client.app[METRICS].registry.get_sample_value(name, labels)
    return found or 0.0


def next_part(env: HlsEnv) -> tuple[int, int]:
    hint = env.playlist.hint()
    assert hint is not None
    return hint


@pytest.fixture
async def env(store: Store, source: Source) -> AsyncIterator[HlsEnv]:
    config = Config()
    config = dataclasses.replace(config, hls=dataclasses.replace(config.hls,
                                                                 block_timeout_sec=1.0))
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store)
    pipeline, frames = ready_pipeline(source)
    pipelines.pipelines[STREAM] = pipeline
    app = create_app(config, store, registry)
    setup_hls(app, pipelines)
    async with TestClient(TestServer(app)) as client:
        yield HlsEnv(client, pipeline, frames, STREAM)


async def test_answers_are_counted_by_kind_and_status(env: HlsEnv) -> None:
    segment = env.playlist.segments[0]
    paths = {
        ("multivariant", "200"): f"/hls/{STREAM}/index.m3u8",
        ("playlist", "200"): env.base + "index.m3u8",
        ("part", "200"): env.base + segment.parts[0].uri,
        ("segment", "200"): env.base + segment.uri,
        ("init", "200"): env.base + f"init{segment.init}.mp4",
        ("init", "404"): env.base + "init99.mp4",
        ("other", "404"): env.base + "nothing.txt",
        ("playlist", "404"): f"/hls/{STREAM}/another-session/source/index.m3u8",
        ("playlist", "400"): env.base + "index.m3u8?_HLS_part=1",
    }
    before = {key: value(env, "mediad_hls_requests_total", kind=key[0], status=key[1])
              for key in paths}
    for (_, status), path in paths.items():
        assert (await env.client.get(path)).status == int(status), path
    for key in paths:
        after = value(env, "mediad_hls_requests_total", kind=key[0], status=key[1])
        assert after - before[key] == 1, key
    text = env.client.app[METRICS].render().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["mediad_hls_requests"].type == "counter"
    assert families["mediad_hls_blocking_wait_seconds"].type == "histogram"
    assert families["mediad_hls_wakeup_delay_seconds"].type == "histogram"


async def _held(env: HlsEnv, path: str) -> tuple[int, float, float, float, float]:
    """The status of ``path``, answered once a part is published while it is held, and the
    changes of the hold and wake-up histograms (counts, sums)."""
    waits = value(env, "mediad_hls_blocking_wait_seconds_count")
    waited = value(env, "mediad_hls_blocking_wait_seconds_sum")
    wakeups = value(env, "mediad_hls_wakeup_delay_seconds_count")
    woke = value(env, "mediad_hls_wakeup_delay_seconds_sum")
    request = asyncio.ensure_future(env.client.get(path))
    await asyncio.sleep(0.3)
    assert not request.done(), "held until the part exists"
    env.advance()
    response = await request
    return (response.status,
            value(env, "mediad_hls_blocking_wait_seconds_count") - waits,
            value(env, "mediad_hls_blocking_wait_seconds_sum") - waited,
            value(env, "mediad_hls_wakeup_delay_seconds_count") - wakeups,
            value(env, "mediad_hls_wakeup_delay_seconds_sum") - woke)


async def test_a_woken_blocking_reload_records_its_hold_and_wake_up_delay(env: HlsEnv) -> None:
    msn, index = next_part(env)
    status, waits, waited, wakeups, woke = await _held(
        env, env.base + f"index.m3u8?_HLS_msn={msn}&_HLS_part={index}")
    assert status == 200
    assert waits == 1 and waited > 0.1  # held from its arrival, not the client's send
    assert wakeups == 1 and 0 <= woke < waited  # from the publication, not the request


async def test_a_woken_preload_hint_records_its_hold_and_wake_up_delay(env: HlsEnv) -> None:
    msn, index = next_part(env)
    status, waits, waited, wakeups, woke = await _held(env, env.base + f"seg{msn}.{index}.m4s")
    assert status == 200
    assert waits == 1 and waited > 0.1  # held from its arrival, not the client's send
    assert wakeups == 1 and 0 <= woke < waited


async def test_a_hold_that_times_out_is_a_503_and_no_wake_up(env: HlsEnv) -> None:
    msn, index = next_part(env)
    path = env.base + f"index.m3u8?_HLS_msn={msn}&_HLS_part={index + 1}"
    unavailable = value(env, "mediad_hls_requests_total", kind="playlist", status="503")
    waits = value(env, "mediad_hls_blocking_wait_seconds_count")
    waited = value(env, "mediad_hls_blocking_wait_seconds_sum")
    wakeups = value(env, "mediad_hls_wakeup_delay_seconds_count")
    assert (await env.client.get(path)).status == 503  # nothing published for 1 s
    assert value(env, "mediad_hls_requests_total", kind="playlist",
                     status="503") - unavailable == 1
    assert value(env, "mediad_hls_blocking_wait_seconds_count") - waits == 1
    assert value(env, "mediad_hls_blocking_wait_seconds_sum") - waited >= 1.0
    assert value(env, "mediad_hls_wakeup_delay_seconds_count") == wakeups


async def test_a_request_answered_at_once_is_no_hold(env: HlsEnv) -> None:
    msn, index = env.playlist.last_position()
    waits = value(env, "mediad_hls_blocking_wait_seconds_count")
    path = env.base + f"index.m3u8?_HLS_msn={msn}&_HLS_part={index}"
    assert (await env.client.get(path)).status == 200
    assert value(env, "mediad_hls_blocking_wait_seconds_count") == waits
