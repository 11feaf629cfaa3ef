"""Debian's real Prometheus scrapes a real daemon every second (bearer token) while a real
stream runs: an SRT publisher (ffmpeg) through a one-rung ladder, an LL-HLS viewer sending
CMCD, a WebSocket, chat, a moderation action, a tip and player reports. The contract's
series exist with sane values, every panel of conf/grafana-mediad.json is a query
Prometheus runs (and the ones the stream feeds return data), and 50 streams that publish
and end leave no series behind. One daemon and one Prometheus for the whole module."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mediad.realtime.tips import SIGNATURE_HEADER, sign
from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.hls_viewer_testing import get, listing, media
from tests.interop.prometheus_testing import Prometheus, QueryError, prometheus
from tests.mediad.metrics.contract_testing import CONTRACT
from tests.mediad.metrics.dashboard_testing import DASHBOARD, panel_queries
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

TOKEN = "prometheus-scrapes-with-this-0123456789"
TIP_SECRET = "whsec-metrics-interop-0123456789"
RUNG = "120p"
PLAYER_SESSION = "6e2fb550-c457-11e9-bb97-0800200c9a66"
CONFIG = f"""
[metrics]
token = "{TOKEN}"
allow = ["192.0.2.0/24"]
[tips]
webhook_secret = "{TIP_SECRET}"
[auth]
login_attempts_per_minute_per_ip = 1
[api]
writes_per_minute_per_user = 1000
[streams]
reconnect_grace_sec = 0.5
[hls]
ended_retention_sec = 1.0
[recording]
enabled = false
[[transcode.ladder]]
name = "{RUNG}"
height = 120
bitrate_kbps = 150
fps_max = 15
preset = "ultrafast"
"""
CHURN_STREAMS = 50
CHURN_AT_ONCE = 25
ENV = {"MEDIAD_RTMP_MAX_UNAUTHENTICATED_PER_ADDRESS": str(CHURN_AT_ONCE)}
"""The churn's publishers all come from 127.0.0.1, at once."""


@dataclass
class Stack:
    daemon: DaemonProcess
    prom: Prometheus
    stream_id: str
    admin: str
    """An admin's access token."""
    folder: Path
    viewer: Viewer


@dataclass
class Viewer:
    """An LL-HLS player in a thread: blocking reloads of the rung's next part and the part
    itself, each with CMCD (CTA-5004) as the ``CMCD`` query argument, and a player report
    every few seconds."""

    daemon: DaemonProcess
    stream_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    parts: int = 0
    errors: list[str] = field(default_factory=list)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _cmcd(self, first: bool, object_type: str) -> str:
        keys = [f"bl={1500 + 100 * (self.parts % 5)}", "br=150", "mtp=8000",
                f"ot={object_type}", f'sid="{PLAYER_SESSION}"', "sf=h",
                "st=l", "v=1"]
        if first:
            keys.append("su")
        return "CMCD=" + urllib.parse.quote(",".join(sorted(keys)))

    def _run(self) -> None:
        try:
            playlists = listing(self.daemon.banner.hls_url)
            url = playlists.media_url(RUNG)
            reported = 0.0
            while not self.stop.is_set():
                now = media(url)
                hint = now.hint()
                if hint is None:
                    time.sleep(0.2)
                    continue
                msn, part = hint
                first = self.parts == 0
                status, _ = get(f"{url}?_HLS_msn={msn}&_HLS_part={part}&"
                                f"{self._cmcd(first, 'm')}")
                part_url = urllib.parse.urljoin(url, f"seg{msn}.{part}.m4s")
                status, body = get(f"{part_url}?{self._cmcd(first, 'v')}")
                if status == 200 and body:
                    self.parts += 1
                if time.monotonic() - reported > 5:
                    reported = time.monotonic()
                    call(self.daemon, "POST", f"/api/streams/{self.stream_id}/metrics",
                         body={"ttffMs": 900, "latencyMs": 2400, "rendition": RUNG,
                               "sessionId": PLAYER_SESSION})
        except Exception as exc:  # reported by the tests that need the viewer
            self.errors.append(repr(exc))


def _open_websocket(daemon: DaemonProcess, stream_id: str) -> socket.socket:
    """A real WebSocket upgrade to the stream's channel, held open (the kernel buffers what
    the server sends; the test never reads it)."""
    sock = socket.create_connection(("127.0.0.1", daemon.http_port), timeout=10)
    sock.sendall(
        f"GET /ws/streams/{stream_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode())
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer[:200]
    return sock


def _tip(daemon: DaemonProcess, stream_id: str) -> None:
    body = json.dumps({"streamId": stream_id, "idempotencyKey": "metrics-interop-1",
                       "amountMinor": 500, "currency": "EUR", "from": "Ada"}).encode()
    request = urllib.request.Request(
        daemon.base_url + "/api/webhooks/tips", data=body, method="POST", headers={
            SIGNATURE_HEADER: sign(TIP_SECRET, int(time.time()), body),
            "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def _srt_publisher(ffmpeg: str, url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "300",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
         "-b:v", "300k", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", url],
        stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ffmpeg = require_tool("ffmpeg")
    folder = tmp_path_factory.mktemp("prometheus-interop")
    with DaemonProcess(extra_config=CONFIG, env=ENV) as daemon:
        stream_id = daemon.banner.stream_id
        publisher = _srt_publisher(ffmpeg, daemon.banner.srt_url.replace("localhost",
                                                                          "127.0.0.1"))
        viewer = Viewer(daemon, stream_id)
        sock = None
        try:
            with prometheus(f"127.0.0.1:{daemon.http_port}", TOKEN) as prom:
                admin = sign_in(daemon)
                daemon.wait_for_log("publisher attached", timeout=20)
                sock = _open_websocket(daemon, stream_id)
                status, _ = call(daemon, "POST", f"/api/streams/{stream_id}/chat", admin,
                                 {"text": "hello, Prometheus"})
                assert status == 201
                status, _ = call(daemon, "PUT", f"/api/streams/{stream_id}/slow-mode", admin,
                                 {"seconds": 0})
                assert status == 200
                _tip(daemon, stream_id)
                for _ in range(2):  # the second failed sign-in from here is throttled
                    call(daemon, "POST", "/api/auth/login",
                         body={"handle": "nobody", "password": "wrong"})
                viewer.start()
                yield Stack(daemon, prom, stream_id, admin, folder, viewer)
        finally:
            viewer.stop.set()
            if sock is not None:
                sock.close()
            publisher.kill()
            publisher.wait()


# -- who may scrape ------------------------------------------------------------------------


def test_prometheus_scrapes_with_the_token_and_others_are_refused(stack: Stack) -> None:
    stack.prom.wait('up{job="mediad"}', lambda r: bool(r) and r[0]["value"][1] == "1",
                    "the target up")
    [target] = stack.prom.targets()
    assert target["health"] == "up" and target["lastError"] == "", target
    # From 127.0.0.1, not in metrics.allow: the token is the only way in.
    status, body = get(stack.daemon.base_url + "/metrics")
    assert status == 403, body[:200]
    assert b"mediad_" not in body


# -- the contract's series ---------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    """The contract series it checks."""
    expr: str
    sane: Callable[[float], bool]
    means: str


def _checks(stream: str) -> list[Check]:
    s = f'stream="{stream}"'
    r = f'{s}, rendition="{RUNG}"'
    src = f'{s}, rendition="source"'

    def c(name: str, expr: str, sane: Callable[[float], bool], means: str) -> Check:
        return Check(name, expr, sane, means)

    return [
        c("mediad_build_info", "mediad_build_info", lambda v: v == 1, "1"),
        c("mediad_event_loop_lag_seconds", "mediad_event_loop_lag_seconds_count",
          lambda v: v > 0, "probed"),
        c("process_cpu_seconds_total", "process_cpu_seconds_total", lambda v: v > 0, "> 0"),
        c("process_resident_memory_bytes", "process_resident_memory_bytes",
          lambda v: 20e6 < v < 8e9, "20 MB .. 8 GB"),
        c("process_open_fds", "process_open_fds", lambda v: 5 < v < 20_000, "5 .. 20000"),
        c("process_max_fds", "process_max_fds", lambda v: v >= 1024, ">= 1024"),
        c("process_start_time_seconds", "time() - process_start_time_seconds",
          lambda v: 0 < v < 600, "started minutes ago at most"),
        # Part A
        c("mediad_stream_info", f'mediad_stream_info{{{s}, protocol="srt", state="live"}}',
          lambda v: v == 1, "live over SRT"),
        c("mediad_stream_ingest_bytes_total", f"mediad_stream_ingest_bytes_total{{{s}}}",
          lambda v: v > 20_000, "> 20 kB"),
        c("mediad_stream_ingest_frames_total",
          f'mediad_stream_ingest_frames_total{{{s}, kind="video"}}', lambda v: v > 15,
          "> 15 video frames"),
        c("mediad_stream_ingest_frames_total",
          f'mediad_stream_ingest_frames_total{{{s}, kind="audio"}}', lambda v: v > 15,
          "> 15 audio frames"),
        c("mediad_stream_ingest_frames_dropped_total",
          f"mediad_stream_ingest_frames_dropped_total{{{s}}}", lambda v: v >= 0, ">= 0"),
        c("mediad_stream_source_fps", f"mediad_stream_source_fps{{{s}}}",
          lambda v: 10 <= v <= 20, "about 15"),
        c("mediad_stream_source_bitrate_bps", f"mediad_stream_source_bitrate_bps{{{s}}}",
          lambda v: 30_000 < v < 5_000_000, "30 kb/s .. 5 Mb/s"),
        c("mediad_stream_publisher_reconnects_total",
          f"mediad_stream_publisher_reconnects_total{{{s}}}", lambda v: v == 0, "0"),
        c("mediad_stream_takeovers_total", f"mediad_stream_takeovers_total{{{s}}}",
          lambda v: v == 0, "0"),
        c("mediad_rendition_parts_total", f"mediad_rendition_parts_total{{{src}}}",
          lambda v: v > 3, "> 3 parts"),
        c("mediad_rendition_parts_total", f"mediad_rendition_parts_total{{{r}}}",
          lambda v: v > 3, "> 3 parts"),
        c("mediad_rendition_segments_total", f"mediad_rendition_segments_total{{{r}}}",
          lambda v: v >= 1, ">= 1 segment"),
        c("mediad_rendition_encoder_queue_depth",
          f"mediad_rendition_encoder_queue_depth{{{r}}}", lambda v: 0 <= v < 500,
          "0 .. 500 pictures"),
        c("mediad_rendition_pictures_dropped_total",
          f"mediad_rendition_pictures_dropped_total{{{r}}}", lambda v: v >= 0, ">= 0"),
        c("mediad_rendition_encode_seconds_total",
          f"mediad_rendition_encode_seconds_total{{{r}}}", lambda v: v > 0, "> 0"),
        c("mediad_rendition_pictures_encoded_total",
          f"mediad_rendition_pictures_encoded_total{{{r}}}", lambda v: v > 15, "> 15"),
        c("mediad_rendition_encode_seconds_total",
          f"mediad_rendition_encode_seconds_total{{{r}}} / "
          f"mediad_rendition_pictures_encoded_total{{{r}}}", lambda v: 0 < v < 0.5,
          "a picture takes less than 0.5 s"),
        c("mediad_hls_requests_total",
          'sum(mediad_hls_requests_total{kind="multivariant", status="200"})',
          lambda v: v >= 1, ">= 1"),
        c("mediad_hls_requests_total",
          'sum(mediad_hls_requests_total{kind="playlist", status="200"})',
          lambda v: v >= 2, ">= 2"),
        c("mediad_hls_requests_total",
          'sum(mediad_hls_requests_total{kind="part", status="200"})', lambda v: v >= 1,
          ">= 1"),
        c("mediad_hls_blocking_wait_seconds", "mediad_hls_blocking_wait_seconds_count",
          lambda v: v >= 1, ">= 1 held request"),
        c("mediad_hls_wakeup_delay_seconds", "mediad_hls_wakeup_delay_seconds_count",
          lambda v: v >= 1, ">= 1 woken request"),
        c("mediad_hls_wakeup_delay_seconds",
          "mediad_hls_wakeup_delay_seconds_sum / mediad_hls_wakeup_delay_seconds_count",
          lambda v: 0 <= v < 1, "woken within a second on average"),
        c("mediad_srt_rtt_seconds", f"mediad_srt_rtt_seconds{{{s}}}", lambda v: 0 <= v < 1,
          "0 .. 1 s on loopback"),
        c("mediad_srt_packets_received_total", f"mediad_srt_packets_received_total{{{s}}}",
          lambda v: v > 50, "> 50"),
        c("mediad_srt_packets_lost_total", f"mediad_srt_packets_lost_total{{{s}}}",
          lambda v: v >= 0, ">= 0"),
        c("mediad_srt_packets_retransmitted_total",
          f"mediad_srt_packets_retransmitted_total{{{s}}}", lambda v: v >= 0, ">= 0"),
        c("mediad_srt_packets_dropped_late_total",
          f"mediad_srt_packets_dropped_late_total{{{s}}}", lambda v: v >= 0, ">= 0"),
        c("mediad_rtmp_connections", "count(mediad_rtmp_connections)", lambda v: v >= 1,
          "a series per state"),
        c("mediad_rtmp_connections_accepted_total", "mediad_rtmp_connections_accepted_total",
          lambda v: v >= 0, ">= 0"),
        c("mediad_rtmp_connections_refused_total", "mediad_rtmp_connections_refused_total",
          lambda v: v >= 0, ">= 0"),
        # Part B
        c("mediad_viewers", f'mediad_viewers{{{s}, protocol="websocket"}}', lambda v: v == 1,
          "1 (the test's socket)"),
        c("mediad_viewers", f'mediad_viewers{{{s}, protocol="hls"}}', lambda v: v == 1,
          "1 (the test's player)"),
        c("mediad_viewers", f'mediad_viewers{{{s}, protocol="webrtc"}}', lambda v: v == 0,
          "0"),
        c("mediad_websocket_connections", "mediad_websocket_connections", lambda v: v == 1,
          "1 (the test's socket)"),
        c("mediad_chat_messages_total", "mediad_chat_messages_total", lambda v: v >= 1,
          ">= 1"),
        c("mediad_ratelimit_refusals_total", 'mediad_ratelimit_refusals_total{limit="login"}',
          lambda v: v >= 1, ">= 1 (the throttled sign-in)"),
        c("mediad_ratelimit_refusals_total",
          'mediad_ratelimit_refusals_total{limit="chat"}', lambda v: v == 0, "0"),
        c("mediad_moderation_actions_total",
          'mediad_moderation_actions_total{action="slow_mode"}', lambda v: v == 1, "1"),
        c("mediad_tips_total", 'mediad_tips_total{currency="EUR"}', lambda v: v == 1, "1"),
        c("mediad_tips_amount_total", 'mediad_tips_amount_total{currency="EUR"}',
          lambda v: v == 5.0, "5.00 EUR"),
        c("mediad_store_query_seconds", "mediad_store_query_seconds_count",
          lambda v: v > 10, "> 10 statements"),
        c("mediad_store_query_seconds",
          "mediad_store_query_seconds_sum / mediad_store_query_seconds_count",
          lambda v: 0 < v < 0.5, "under 0.5 s on average"),
        c("mediad_store_checkpoint_seconds", "mediad_store_checkpoint_seconds_count",
          lambda v: v >= 1, ">= 1 checkpoint"),
        # Part C
        # The test's player: its CMCD and its reports name one session.
        c("mediad_player_sessions", f"mediad_player_sessions{{{s}}}", lambda v: v == 1,
          "1 (the test's player)"),
        c("mediad_player_rendition_sessions",
          f'mediad_player_rendition_sessions{{{s}, rendition="{RUNG}"}}',
          lambda v: v == 1, "1"),
        c("mediad_player_stalls_total", f"mediad_player_stalls_total{{{s}}}",
          lambda v: v >= 0, ">= 0"),
        c("mediad_player_viewing_seconds_total",
          f"mediad_player_viewing_seconds_total{{{s}}}", lambda v: v > 0, "> 0"),
        c("mediad_player_buffer_seconds", f"mediad_player_buffer_seconds{{{s}}}",
          lambda v: 1 <= v <= 2.5, "about 1.5 .. 1.9 s (the CMCD bl sent)"),
        c("mediad_player_throughput_bps", f"mediad_player_throughput_bps{{{s}}}",
          lambda v: 7_000_000 <= v <= 9_000_000, "about 8 Mb/s (the CMCD mtp sent)"),
        c("mediad_player_startup_seconds", "mediad_player_startup_seconds_count",
          lambda v: v >= 1, ">= 1"),
        c("mediad_player_latency_seconds", "mediad_player_latency_seconds_count",
          lambda v: v >= 1, ">= 1"),
    ]


def test_every_contract_series_is_checked() -> None:
    assert {c.name for c in _checks("s")} == set(CONTRACT)


def _judge(prom: Prometheus, checks: list[Check]) -> list[str]:
    failed = []
    for check in checks:
        result = prom.query(check.expr)
        if not result:
            failed.append(f"{check.name}: missing ({check.expr})")
        elif len(result) > 1:
            failed.append(f"{check.name}: {len(result)} series for {check.expr}")
        elif not check.sane(float(result[0]["value"][1])):
            failed.append(f"{check.name}: {check.expr} = {result[0]['value'][1]}, "
                          f"expected {check.means}")
    return failed


def test_the_contract_series_exist_with_sane_values(stack: Stack) -> None:
    checks = _checks(stack.stream_id)
    deadline = time.monotonic() + 25
    while (failed := _judge(stack.prom, checks)) and time.monotonic() < deadline:
        time.sleep(1)
    assert not stack.viewer.errors, stack.viewer.errors
    assert failed == [], "\n".join(failed)


# -- the dashboard -------------------------------------------------------------------------

NOT_FED = {"503s and errors"}
"""Panels the running stream does not feed (no request is refused)."""


def test_every_dashboard_panel_runs_and_the_fed_ones_have_data(stack: Stack) -> None:
    queries = panel_queries(DASHBOARD, rate_interval="5s", instance=".*", stream=".*")
    assert len(queries) > 20
    titles = {title for title, _ in queries}
    assert NOT_FED <= titles
    deadline = time.monotonic() + 20
    while True:
        refused, fed = [], set()
        for title, expr in queries:
            try:
                result = stack.prom.query(expr)
            except QueryError as exc:
                refused.append(f"{title}: {exc}")
                continue
            if result:
                fed.add(title)  # a panel of several queries has data when one has
        assert refused == [], "\n".join(refused)
        no_data = sorted(titles - fed - NOT_FED)
        if not no_data or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert no_data == [], f"panels without data: {no_data}"


# -- label cardinality ---------------------------------------------------------------------


def _streams_with_series(prom: Prometheus) -> set[str]:
    return {r["metric"]["stream"] for r in prom.query('count by (stream) ({stream!=""})')}


def _clip(ffmpeg: str, folder: Path) -> Path:
    """Two seconds of a tiny source (shorter than the rung: packaged, not transcoded)."""
    path = folder / "clip.flv"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=15",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-c:a", "aac", "-b:a", "32k",
         "-f", "flv", str(path)], check=True, timeout=60)
    return path


def _new_stream(stack: Stack, n: int) -> tuple[str, str]:
    status, body = call(stack.daemon, "POST", "/api/streams", stack.admin,
                        {"title": f"churn {n}"})
    assert status == 201, body
    status, key = call(stack.daemon, "POST", f"/api/streams/{body['id']}/keys/primary/reveal",
                       stack.admin)
    assert status == 200, key
    return str(body["id"]), str(key["rtmpUrl"])


def _state(stack: Stack, stream_id: str) -> str:
    status, body = call(stack.daemon, "GET", f"/api/streams/{stream_id}", stack.admin)
    assert status == 200, body
    return str(body["state"])


def test_label_cardinality_is_bounded_after_50_streams_come_and_go(stack: Stack) -> None:
    ffmpeg = require_tool("ffmpeg")
    prom = stack.prom
    clip = _clip(ffmpeg, stack.folder)
    streams = [_new_stream(stack, n) for n in range(CHURN_STREAMS)]
    ids = [stream_id for stream_id, _ in streams]
    before_streams = _streams_with_series(prom)
    assert not before_streams & set(ids)
    before = prom.value('count({stream!=""})')
    assert before is not None and before > 0
    accepted_before = prom.value("mediad_rtmp_connections_accepted_total") or 0.0
    for wave in range(0, CHURN_STREAMS, CHURN_AT_ONCE):
        publishers = [subprocess.Popen(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", str(clip),
             "-c", "copy", "-f", "flv", url], stdin=subprocess.DEVNULL)
            for _, url in streams[wave:wave + CHURN_AT_ONCE]]
        assert [p.wait(timeout=60) for p in publishers] == [0] * len(publishers)
    # Each ends once the reconnect grace has passed.
    deadline = time.monotonic() + 20
    while (live := [i for i in ids if _state(stack, i) != "ended"]) and \
            time.monotonic() < deadline:
        time.sleep(0.5)
    assert live == [], f"not ended: {live}"
    pattern = "|".join(re.escape(i) for i in ids)
    # They really were on air, and scraped so: each had a series while it lasted.
    seen = prom.query(f'count by (stream) (last_over_time(mediad_stream_info{{stream=~"{pattern}",'
                      f' protocol="rtmp"}}[5m]))')
    assert {r["metric"]["stream"] for r in seen} == set(ids)
    # Gone now: no series of theirs, and as many series as before (give or take a
    # rendition the running stream's players reported between the readings).
    prom.wait(f'count({{stream=~"{pattern}"}})', lambda r: not r,
              "the ended streams' series gone", within=15)
    assert _streams_with_series(prom) == before_streams
    after = prom.value('count({stream!=""})')
    assert after is not None and abs(after - before) <= 3, (before, after)
    accepted = prom.wait("mediad_rtmp_connections_accepted_total",
                         lambda r: bool(r) and float(r[0]["value"][1]) >= accepted_before + 50,
                         "50 more RTMP connections accepted")
    assert float(accepted[0]["value"][1]) >= accepted_before + CHURN_STREAMS
