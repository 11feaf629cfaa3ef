"""Player quality: the per-stream aggregate of CMCD and reports (sessions, rendition mix,
stalls and viewing time, medians, bounds), its Prometheus series, and the CMCD of real
LL-HLS requests (headers, query, preflight) reaching it."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from mediad.config import Config
from mediad.http.app import METRICS, create_app
from mediad.http.hls import setup_hls
from mediad.metrics.cmcd import Cmcd
from mediad.metrics.quality import (
    LATENCY,
    MAX_RENDITION_NAMES,
    MAX_REQUEST_GAP_SEC,
    OTHER_RENDITION,
    STARTUP,
    LogTally,
    PlayerQuality,
    QualityReport,
    StreamQuality,
)
from mediad.metrics.quality_collector import QualityCollector
from mediad.metrics.quality_setup import (
    PLAYER_QUALITY,
    QualityPruner,
    live_in,
    quality_message,
    setup_quality,
)
from mediad.metrics.registry import DaemonMetrics
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from packager.llhls import PlaylistSettings
from packager.pipeline import StreamPipeline
from tests.mediad.metrics.metrics_testing import samples, value
from tests.packager.packager_testing import Source, encode_source


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def aggregate(*, active_sec: float = 60.0, max_sessions: int = 100, max_streams: int = 100,
              max_total_sessions: int = 1000) -> tuple[PlayerQuality, Clock]:
    clock = Clock()
    return PlayerQuality(active_sec=active_sec, max_sessions=max_sessions,
                         max_total_sessions=max_total_sessions, max_streams=max_streams,
                         clock=clock), clock


def figures_of(quality: PlayerQuality, stream_id: str) -> StreamQuality:
    figures = quality.quality(stream_id)
    assert figures is not None
    return figures


def test_sessions_by_sid_and_their_rendition_mix() -> None:
    quality, clock = aggregate()
    for sid, rendition in (("a", "720p"), ("b", "720p"), ("c", "source")):
        quality.observe_cmcd("s1", "addr", Cmcd(session_id=sid, object_type="v"), rendition)
    quality.observe_cmcd("s1", "addr", Cmcd(session_id="a", object_type="a"), "audio")
    quality.observe_cmcd("s1", "addr", Cmcd(session_id="a", object_type="m"), None)
    figures = quality.quality("s1")
    assert figures is not None
    assert (figures.sessions, figures.renditions) == (3, {"720p": 2, "source": 1})
    clock.now += 1
    quality.observe_cmcd("s1", "addr", Cmcd(session_id="b"), "source")  # b switched
    assert figures_of(quality, "s1").renditions == {"720p": 1, "source": 2}
    assert quality.quality("other") is None


def test_without_a_sid_the_address_and_agent_make_the_session() -> None:
    quality, _ = aggregate()
    quality.observe_cmcd("s1", "10.0.0.1 VLC", Cmcd(buffer_ms=3000), "480p")
    quality.observe_cmcd("s1", "10.0.0.1 VLC", Cmcd(buffer_ms=2000), "480p")
    quality.observe_cmcd("s1", "10.0.0.2 VLC", Cmcd(buffer_ms=2000), "480p")
    assert figures_of(quality, "s1").sessions == 2


def test_sessions_silent_for_a_minute_expire_with_their_share() -> None:
    quality, clock = aggregate(active_sec=60)
    quality.observe_cmcd("s1", "k", Cmcd(session_id="old", buffer_ms=9000,
                                         throughput_kbps=1000), "480p")
    clock.now += 30
    quality.observe_cmcd("s1", "k", Cmcd(session_id="new", buffer_ms=1000,
                                         throughput_kbps=5000), "720p")
    clock.now += 31
    figures = quality.quality("s1")
    assert figures is not None and figures.sessions == 1
    assert figures.renditions == {"720p": 1}
    assert figures.buffer_sec == pytest.approx(1.0, rel=0.03)
    assert figures.throughput_bps == pytest.approx(5e6, rel=0.03)
    clock.now += 60
    figures = quality.quality("s1")
    assert figures is not None
    assert (figures.sessions, figures.renditions, figures.buffer_sec) == (0, {}, None)


def test_sessions_per_stream_are_capped_the_longest_silent_going_first() -> None:
    quality, clock = aggregate(max_sessions=3)
    for index in range(5):
        clock.now += 1
        quality.observe_cmcd("s1", "k", Cmcd(session_id=f"v{index}", buffer_ms=1000 * index),
                             f"r{index}")
    figures = quality.quality("s1")
    assert figures is not None and figures.sessions == 3
    assert figures.renditions == {"r2": 1, "r3": 1, "r4": 1}
    assert figures.buffer_sec == pytest.approx(3.0, rel=0.03)


def test_sessions_in_all_are_capped_a_full_house_takes_no_new_stream() -> None:
    quality, clock = aggregate(max_total_sessions=3)
    for index in range(3):
        quality.observe_cmcd("s1", "k", Cmcd(session_id=f"v{index}"), "720p")
    quality.observe_cmcd("s2", "k", Cmcd(session_id="late", buffer_ms=100), "720p")
    quality.observe_report("s2", "k", QualityReport(session_id="late", stalls=3, watched_ms=1))
    assert figures_of(quality, "s2").sessions == 0 and figures_of(quality, "s2").stalls == 0
    clock.now += 1
    quality.observe_cmcd("s1", "k", Cmcd(session_id="v3"), "source")  # v0 makes room
    assert figures_of(quality, "s1").renditions == {"720p": 2, "source": 1}
    assert quality.total_sessions == 3
    clock.now += 61  # all expire
    assert figures_of(quality, "s1").sessions == 0 and quality.total_sessions == 0
    quality.observe_cmcd("s2", "k", Cmcd(session_id="late"), "720p")
    assert figures_of(quality, "s2").sessions == 1
    quality.forget("s2")
    assert quality.total_sessions == 0


def test_streams_are_capped_the_quietest_going_first() -> None:
    quality, clock = aggregate(max_streams=2)
    for stream in ("s1", "s2", "s3"):
        clock.now += 1
        quality.observe_cmcd(stream, "k", Cmcd(session_id="a"), "source")
    assert sorted(quality.stream_ids()) == ["s2", "s3"]
    assert quality.total_sessions == 2
    quality.forget("s2")
    assert quality.stream_ids() == ["s3"] and quality.total_sessions == 1


def test_cmcd_stalls_and_viewing_time() -> None:
    quality, clock = aggregate()
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", startup=True), "source")
    clock.now += 3  # startup requests are no viewing time
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", startup=True), "source")
    for _ in range(4):
        clock.now += 0.5
        quality.observe_cmcd("s1", "k", Cmcd(session_id="a"), "source")
    clock.now += 45  # a pause: at most MAX_REQUEST_GAP_SEC of it counts
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", starved=True), "source")
    figures = quality.quality("s1")
    assert figures is not None and figures.stalls == 1
    assert figures.viewing_sec == pytest.approx(2.0 + MAX_REQUEST_GAP_SEC)
    assert figures.stalls_per_viewer_minute == pytest.approx(60 / (2.0 + MAX_REQUEST_GAP_SEC))


def test_a_reporting_session_counts_its_stalls_once() -> None:
    quality, clock = aggregate()
    quality.observe_report("s1", "k", QualityReport(session_id="a", stalls=0, watched_ms=0))
    clock.now += 1
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", starved=True), "720p")
    clock.now += 1
    quality.observe_report("s1", "k", QualityReport(session_id="a", stalls=1, watched_ms=30_000,
                                                    rendition="720p", buffer_ms=1500,
                                                    throughput_kbps=8000))
    figures = quality.quality("s1")
    assert figures is not None
    assert (figures.stalls, figures.viewing_sec, figures.sessions) == (1, 30.0, 1)
    assert figures.renditions == {"720p": 1}
    assert figures.throughput_bps == pytest.approx(8e6, rel=0.03)
    assert quality_message(quality, "s1") == {
        "sessions": 1, "renditions": {"720p": 1}, "stalls": 1, "viewingSec": 30.0,
        "stallsPerViewerMinute": 2.0, "bufferSec": pytest.approx(1.5, rel=0.03),
        "throughputKbps": pytest.approx(8000, rel=0.03)}
    assert quality_message(quality, "nobody") is None


def test_a_reports_rendition_is_kept_only_for_sessions_cmcd_does_not_name() -> None:
    quality, _ = aggregate()
    quality.observe_report("s1", "k", QualityReport(session_id="a", rendition="720p", ttff_ms=900))
    quality.observe_cmcd("s1", "k", Cmcd(session_id="b"), "480p")
    quality.observe_report("s1", "k", QualityReport(session_id="b", rendition="480p label",
                                                    latency_ms=2000))
    assert figures_of(quality, "s1").renditions == {"720p": 1, "480p": 1}


def test_reports_cannot_name_unbounded_renditions() -> None:
    """A report names its rendition freely: a hostile client sending a new name in each of
    many sessions must not grow the mix (and /metrics' labels) without bound."""
    quality, _ = aggregate(max_sessions=1000)
    for n in range(200):
        quality.observe_report("s1", "k", QualityReport(session_id=f"s{n}",
                                                        rendition=f"made-up {n}"))
    mix = figures_of(quality, "s1").renditions
    assert len(mix) == MAX_RENDITION_NAMES + 1
    assert mix[OTHER_RENDITION] == 200 - MAX_RENDITION_NAMES
    assert sum(mix.values()) == 200


def test_names_no_session_holds_make_room_again() -> None:
    quality, clock = aggregate(active_sec=60, max_sessions=1000)
    for n in range(MAX_RENDITION_NAMES):
        quality.observe_report("s1", "k", QualityReport(session_id=f"s{n}",
                                                        rendition=f"made-up {n}"))
    clock.now += 61  # those sessions fall silent and expire
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a"), "480p")
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a"), "720p")
    assert figures_of(quality, "s1").renditions == {"720p": 1}


def test_reports_feed_the_startup_and_latency_histograms() -> None:
    metrics = DaemonMetrics()
    startup_before = value(metrics, "mediad_player_startup_seconds_count")
    latency_before = value(metrics, "mediad_player_latency_seconds_count")
    slow_before = value(metrics, "mediad_player_startup_seconds_bucket", le="1.0")
    quality, _ = aggregate()
    quality.observe_report("s1", "k", QualityReport(ttff_ms=800))
    quality.observe_report("s1", "k", QualityReport(ttff_ms=4000, latency_ms=2500))
    assert value(metrics, "mediad_player_startup_seconds_count") == startup_before + 2
    assert value(metrics, "mediad_player_startup_seconds_bucket", le="1.0") == slow_before + 1
    assert value(metrics, "mediad_player_latency_seconds_count") == latency_before + 1
    assert STARTUP is not LATENCY


@given(st.lists(st.floats(0, 600, allow_nan=False), min_size=1, max_size=60))
def test_the_tally_median_is_within_its_bucket_of_the_true_one(values: list[float]) -> None:
    tally = LogTally()
    for number in values:
        tally.add(LogTally.bucket(number))
    median = tally.median()
    expected = statistics.median_low(values)
    assert median is not None
    if expected < 1e-6:
        assert median < 1e-5
    else:
        assert median == pytest.approx(expected, rel=0.03)


def test_the_tally_forgets_what_is_removed() -> None:
    tally = LogTally()
    buckets = [LogTally.bucket(v) for v in (0.0, 1.0, 5.0)]
    for bucket in buckets:
        tally.add(bucket)
    assert tally.median() == pytest.approx(1.0, rel=0.03)
    for bucket in buckets:
        tally.remove(bucket)
    assert (tally.total, tally.median()) == (0, None)


async def test_the_pruner_forgets_ended_streams_unscraped() -> None:
    quality, clock = aggregate()
    live = {"s1", "s2"}
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", starved=True), "720p")
    quality.observe_cmcd("s2", "k", Cmcd(session_id="b"), "720p")
    pruner = QualityPruner(quality, lambda stream: stream in live, interval_sec=0.01)
    await pruner.start()
    try:
        live.discard("s1")
        clock.now += 61  # s2's session went silent
        for _ in range(200):
            if quality.stream_ids() == ["s2"] and quality.total_sessions == 0:
                break
            await asyncio.sleep(0.01)
    finally:
        await pruner.stop()
    assert quality.stream_ids() == ["s2"] and quality.total_sessions == 0
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a"), "720p")  # a new broadcast
    assert figures_of(quality, "s1").stalls == 0


def test_the_collector_yields_the_contract_names_for_live_streams_only() -> None:
    metrics = DaemonMetrics()
    quality, _ = aggregate()
    live = {"s1"}
    metrics.add_collector(QualityCollector(quality, lambda stream: stream in live))
    quality.observe_cmcd("s1", "k", Cmcd(session_id="a", buffer_ms=2000, throughput_kbps=4000,
                                         starved=True), "720p")
    quality.observe_report("s1", "k", QualityReport(session_id="a", watched_ms=60_000))
    quality.observe_cmcd("gone", "k", Cmcd(session_id="a"), "source")
    assert samples(metrics, "mediad_player_sessions") == {(("stream", "s1"),): 1.0}
    assert samples(metrics, "mediad_player_rendition_sessions") == {
        (("rendition", "720p"), ("stream", "s1")): 1.0}
    assert value(metrics, "mediad_player_stalls_total", stream="s1") == 1.0
    assert value(metrics, "mediad_player_viewing_seconds_total", stream="s1") == 60.0
    assert value(metrics, "mediad_player_buffer_seconds", stream="s1") == pytest.approx(2.0, 0.03)
    assert value(metrics, "mediad_player_throughput_bps", stream="s1") == pytest.approx(4e6, 0.03)
    assert quality.stream_ids() == ["s1"]  # the ended stream was forgotten
    live.clear()
    assert samples(metrics, "mediad_player_sessions") == {}
    assert quality.stream_ids() == []


# -- CMCD on real LL-HLS requests -----------------------------------------------------------

STREAM = "qualitystream1"


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3, b_frames=0)


@dataclass
class Env:
    client: TestClient
    pipeline: StreamPipeline
    quality: PlayerQuality

    @property
    def base(self) -> str:
        return f"/hls/{STREAM}/{self.pipeline.session}/source/"


@pytest.fixture
async def env(tmp_path: Path, source: Source) -> AsyncIterator[Env]:
    store = await Store.open(tmp_path / "db.sqlite3")
    config = Config()
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store)
    pipeline = StreamPipeline(PlaylistSettings(0.2, 1.0, dvr_window=60), lambda a: 1.79e9 + a)
    pipeline.track_changed(source.video)
    pipeline.track_changed(source.audio)
    pipelines.pipelines[STREAM] = pipeline
    frames = iter(source.frames)
    while not pipeline.ready:
        pipeline.push(next(frames))
    app = create_app(config, store, registry)
    setup_hls(app, pipelines)
    quality = setup_quality(app, live_in(pipelines))
    async with TestClient(TestServer(app)) as client:
        yield Env(client, pipeline, quality)
    await store.close()


async def test_cmcd_headers_of_hls_requests_reach_the_aggregate(env: Env) -> None:
    headers = {"CMCD-Request": "bl=2500,mtp=12000", "CMCD-Object": "ot=v,br=1200",
               "CMCD-Session": 'sid="s-1",cid="x",sf=h,st=l'}
    assert (await env.client.get(env.base + "index.m3u8", headers=headers)).status == 200
    assert (await env.client.get(env.base + "seg1.m4s", headers=headers)).status == 200
    figures = env.quality.quality(STREAM)
    assert figures is not None
    assert (figures.sessions, figures.renditions) == (1, {"source": 1})
    assert figures.buffer_sec == pytest.approx(2.5, rel=0.03)
    text = env.client.app[METRICS].render().decode()
    assert f'mediad_player_sessions{{stream="{STREAM}"}} 1.0' in text
    assert env.client.app[PLAYER_QUALITY] is env.quality


async def test_the_cmcd_query_argument_counts_too(env: Env) -> None:
    query = {"CMCD": 'bl=800,ot=v,sid="q-1"'}
    assert (await env.client.get(env.base + "seg1.m4s", params=query)).status == 200
    assert (await env.client.get(env.base + "index.m3u8", params=query)).status == 200
    figures = env.quality.quality(STREAM)
    assert figures is not None and figures.sessions == 1
    assert figures.buffer_sec == pytest.approx(0.8, rel=0.03)


async def test_bad_cmcd_is_ignored_and_errors_count_nobody(env: Env) -> None:
    response = await env.client.get(env.base + "seg1.m4s", headers={"CMCD-Request": "bl=?"})
    assert response.status == 200
    missing = await env.client.get(f"/hls/{STREAM}/nosession/source/index.m3u8",
                                   headers={"CMCD-Session": 'sid="x"'})
    assert missing.status == 404
    assert env.quality.quality(STREAM) is None


async def test_the_preflight_lets_a_cross_origin_player_send_cmcd_headers(env: Env) -> None:
    response = await env.client.options(env.base + "seg1.m4s", headers={
        "Origin": "https://player.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "cmcd-request,cmcd-object,cmcd-status,cmcd-session"})
    assert response.status == 204
    allowed = {name.strip().lower()
               for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"cmcd-request", "cmcd-object", "cmcd-status", "cmcd-session", "range"} <= allowed
    assert response.headers["Access-Control-Allow-Origin"] == "*"
