"""LL-HLS through a real nginx edge (issue 19): Debian's nginx, with the config
``mediad edge-config`` writes, in front of a real mediad with a real ffmpeg publisher; a
counting relay between the two counts what reaches the origin.

hls.js in Chromium plays through the edge at low latency; the web app, served whole by the
edge, plays; viewers behind the edge are not counted by their HLS requests (their
WebSocket presence counts them); 200 viewers blocking on the same future part (or
playlist) cost the origin one request and get the origin's bytes; a delta update through
the edge merges into the origin's full playlist; an ended stream's EXT-X-ENDLIST reaches
blocked viewers within a target duration.

One daemon, one edge and one publisher serve the whole module (the tests run in file
order; the last one ends the stream).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiohttp
import m3u8
import pytest

from mediad.testing import DaemonProcess
from tests.interop.api_client_testing import call, sign_in
from tests.interop.hls_viewer_testing import get
from tests.interop.hlsjs_watch_testing import Watch
from tests.interop.live_publisher_testing import publish
from tests.interop.nginx_edge_testing import CountingRelay, NginxEdge
from tests.interop.player_e2e_testing import PLAYER_WEB, RESULTS, e2e_peers, last_json_line
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

VIEWERS = 200
EDGE_SCRIPT = PLAYER_WEB / "e2e" / "edge.mjs"
_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.(\d+)\.m4s"')
_PART = re.compile(r'#EXT-X-PART:.*URI="seg(\d+)\.(\d+)\.m4s"')
_TARGET = re.compile(r"#EXT-X-TARGETDURATION:(\d+)")


@dataclass
class Rig:
    daemon: DaemonProcess
    relay: CountingRelay
    edge: NginxEdge
    token: str
    media_path: str
    """``/hls/{stream}/{session}/{rendition}/index.m3u8`` of the (only) rendition."""

    @property
    def stream(self) -> str:
        return self.daemon.banner.stream_id

    @property
    def multivariant_path(self) -> str:
        return f"/hls/{self.stream}/index.m3u8"

    def sibling(self, name: str) -> str:
        """The path of ``name`` next to the media playlist (a part, a segment)."""
        return self.media_path.rsplit("/", 1)[0] + "/" + name

    def viewers(self) -> int:
        status, body = call(self.daemon, "GET", f"/api/streams/{self.stream}", self.token)
        assert status == 200, body
        return int(body["viewers"])


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    ffmpeg = require_tool("ffmpeg")
    # One rendition (the source): the ladder's encoders would take the cores the edge,
    # Chromium and 200 viewers need.
    with (DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon,
          CountingRelay(daemon.base_url) as relay,
          NginxEdge([relay.address]) as edge):
        publisher = publish(ffmpeg, daemon.rtmp_url(), 120)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            status, body = get(edge.base_url + f"/hls/{daemon.banner.stream_id}/index.m3u8")
            assert status == 200, (body, edge.logs)
            uri = next(line for line in body.decode().splitlines()
                       if line and not line.startswith("#"))
            media_path = urllib.parse.urlsplit(urllib.parse.urljoin(
                f"{edge.base_url}/hls/{daemon.banner.stream_id}/index.m3u8", uri)).path
            yield Rig(daemon, relay, edge, sign_in(daemon), media_path)
        finally:
            publisher.kill()
            publisher.wait()


def position(playlist: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(the last published part, the preload-hinted part) as (msn, part index)."""
    parts = _PART.findall(playlist)
    hint = _HINT.search(playlist)
    assert parts and hint, playlist
    last = parts[-1]
    return (int(last[0]), int(last[1])), (int(hint[1]), int(hint[2]))


def target_duration(playlist: str) -> int:
    found = _TARGET.search(playlist)
    assert found, playlist
    return int(found[1])


def blocking(path: str, msn: int, part: int, *, skip: bool = False) -> str:
    return f"{path}?_HLS_msn={msn}&_HLS_part={part}" + ("&_HLS_skip=YES" if skip else "")


def text(url: str) -> str:
    status, body = get(url)
    assert status == 200, (url, status, body[:300])
    return body.decode()


@dataclass
class Answer:
    status: int
    body: bytes
    sent_at: float
    done_at: float


async def _fetch_all(session: aiohttp.ClientSession, urls: list[str]) -> list[Answer]:
    async def one(url: str) -> Answer:
        sent = time.monotonic()
        async with session.get(url) as response:
            body = await response.read()
            return Answer(response.status, body, sent, time.monotonic())
    return list(await asyncio.gather(*(one(url) for url in urls)))


def fetch_concurrently(urls: list[str]) -> list[Answer]:
    """Every URL requested at once, each on its own connection."""
    return burst(lambda: urls)


def burst(choose: Callable[[], list[str]], *, warm_up: str | None = None,
          connections: int = 0) -> list[Answer]:
    """The URLs ``choose`` returns, requested at once, each on its own connection.
    ``warm_up`` (a URL answered at once) first opens ``connections`` connections, and
    ``choose`` is called after that, so that the burst leaves the moment it returns."""
    async def run() -> list[Answer]:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            if warm_up is not None:
                await _fetch_all(session, [warm_up])  # cached at the edge: the rest hit
                await _fetch_all(session, [warm_up] * connections)
            urls = await asyncio.to_thread(choose)
            return await _fetch_all(session, urls)
    return asyncio.run(run())


def summary(delays: list[float]) -> str:
    ms = sorted(d * 1000 for d in delays)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms"


def next_hint_just_opened(rig: Rig) -> tuple[int, int]:
    """Waits (a blocking reload at the origin) for the hinted part to be published and
    returns the new hint: a part a whole part duration away."""
    origin = rig.daemon.base_url
    _, hint = position(text(origin + rig.media_path))
    _, new_hint = position(text(origin + blocking(rig.media_path, *hint)))
    return new_hint


def test_hlsjs_plays_through_the_edge_at_low_latency(rig: Rig) -> None:
    watch = Watch(rig.edge.base_url + rig.multivariant_path, seconds=6).start()
    report = watch.report(timeout=60)
    samples = watch.samples
    advanced = samples[-1]["currentTime"] - samples[0]["currentTime"]
    latency = report["latencyP50"]
    print(f"\nhls.js through the nginx edge: latency p50 {latency} s, played {advanced:.2f} s; "
          f"non-fatal errors: {[e['details'] for e in report['errors']]}")
    assert advanced >= 4.0, samples
    assert latency is not None and latency < 1.5, samples


def test_the_web_app_plays_through_the_edge(rig: Rig) -> None:
    """One edge host serves the whole app: the page, the API, the WebSocket and the media
    (the build's MEDIA_ORIGIN is the page's origin: the edge). The chat counts the viewer by
    the WebSocket's presence. (Before the viewer-count test: that one leaves 20 viewers
    counted for a while.)"""
    node, chromium, _ = e2e_peers()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "failure-edge.png").unlink(missing_ok=True)
    already = len(rig.relay.requests())
    command = [node, str(EDGE_SCRIPT), "--base", rig.edge.base_url, "--stream", rig.stream,
               "--out", str(RESULTS)]
    run = subprocess.run(command, cwd=PLAYER_WEB, env={"CHROMIUM": chromium, **os.environ},
                         capture_output=True, text=True, timeout=90, check=False)
    report = last_json_line(run.stdout)
    assert run.returncode == 0 and report is not None and report["ok"], (
        f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}\n"
        f"edge:\n{rig.edge.logs[-2000:]}")
    print(f"\nthe web app through the edge: first frame after {report['ttffMs']} ms, "
          f"requests {report['requests']}, steps {report['steps']}")
    assert report["elsewhere"] == []
    assert report["requests"]["hls"] > 0 and report["requests"]["ws"] >= 1
    reached = rig.relay.requests()[already:]
    assert any(r.path_qs.startswith(f"/ws/streams/{rig.stream}") for r in reached)
    assert any(r.path_qs.startswith(rig.media_path) for r in reached)
    assert all(r.headers.get("Via") == "1.1 mediad-edge" for r in reached)


def test_hls_viewers_behind_the_edge_are_not_counted_by_their_requests(rig: Rig) -> None:
    """20 players behind the edge (each its own user agent: 20 viewers to the origin's
    address-and-agent key) count nobody at the origin: their requests come through as the
    edge's (``Via``), collapsed and cached. Their WebSocket presence counts them; and the
    same 20 players asking the origin directly are 20 viewers (the count works)."""
    agents = [f"edge-viewer-{i}" for i in range(20)]

    def poll(base: str, seconds: float) -> list[int]:
        async def run() -> list[int]:
            seen: list[int] = []
            async with aiohttp.ClientSession() as session:
                async def player(agent: str) -> None:
                    end = time.monotonic() + seconds
                    while time.monotonic() < end:
                        async with session.get(base + rig.media_path,
                                               headers={"User-Agent": agent}) as response:
                            assert response.status == 200
                            await response.read()
                        await asyncio.sleep(0.3)

                async def count() -> None:
                    end = time.monotonic() + seconds
                    while time.monotonic() < end:
                        seen.append(await asyncio.to_thread(rig.viewers))
                        await asyncio.sleep(0.4)
                await asyncio.gather(count(), *(player(a) for a in agents))
            return seen
        return asyncio.run(run())

    # The web app's viewer (the previous test) is gone once its socket's close is
    # announced; viewer reports are announced every second: 2.5 s is two rounds of them.
    deadline = time.monotonic() + 20
    while (left := rig.viewers()) != 0:
        assert time.monotonic() < deadline, f"{left} viewers still counted"
        time.sleep(0.2)
    behind_edge = poll(rig.edge.base_url, 2.5)
    assert behind_edge and max(behind_edge) == 0, behind_edge
    origin_hits = [r for r in rig.relay.requests() if r.path_qs.startswith(rig.media_path)]
    assert origin_hits and all(r.headers.get("Via") for r in origin_hits)

    async def present(seconds: float) -> list[int]:
        url = rig.edge.base_url.replace("http", "ws", 1) + f"/ws/streams/{rig.stream}"
        # No cookie jar: each socket is a browser of its own, with its own guest cookie.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            sockets = [await session.ws_connect(url, headers={"User-Agent": a}) for a in agents]
            seen: list[int] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end and (not seen or seen[-1] < len(agents)):
                await asyncio.sleep(0.4)
                seen.append(await asyncio.to_thread(rig.viewers))
            for socket in sockets:
                await socket.close()
            return seen

    with_sockets = asyncio.run(present(5.0))
    assert with_sockets[-1] == len(agents), with_sockets
    direct = poll(rig.daemon.base_url, 3.0)
    print(f"\nviewers at the origin: {behind_edge} with 20 HLS players behind the edge, "
          f"{with_sockets} with their 20 WebSockets through the edge, {direct} with the 20 "
          f"players asking the origin directly")
    assert max(direct) == len(agents), direct


def test_viewers_blocking_on_a_future_part_cost_the_origin_one_request(rig: Rig) -> None:
    """200 viewers ask the edge at once for the preload-hinted part and for a blocking
    reload of the next segment's first part: one origin request each, and every viewer
    gets the origin's bytes. Their wake-up delays are printed, not asserted: nginx does not
    wake requests waiting on ``proxy_cache_lock`` when the entry is cached, they poll on a
    timer of up to 500 ms."""
    edge, origin = rig.edge.base_url, rig.daemon.base_url
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text(origin + rig.media_path))
    assert init
    warm_up = rig.sibling(init[1])
    chosen: dict[str, str] = {}

    def the_next_part() -> list[str]:
        hint = next_hint_just_opened(rig)
        chosen["part"] = rig.sibling(f"seg{hint[0]}.{hint[1]}.m4s")
        chosen["reload"] = blocking(rig.media_path, hint[0] + 1, 0)
        return [edge + chosen["part"]] * VIEWERS + [edge + chosen["reload"]] * VIEWERS

    answers = burst(the_next_part, warm_up=edge + warm_up, connections=2 * VIEWERS)
    part_path, reload_path = chosen["part"], chosen["reload"]
    part_answers, reload_answers = answers[:VIEWERS], answers[VIEWERS:]
    assert {a.status for a in answers} == {200}, {a.status for a in answers}

    part_requests = rig.relay.requests(part_path)
    reload_requests = rig.relay.requests(reload_path)
    statuses = {path: Counter(line.rsplit(" ", 1)[-1] for line in rig.edge.access_log()
                              if f" {path} " in line) for path in (part_path, reload_path)}
    assert len(part_requests) == 1, statuses
    assert len(reload_requests) == 1, statuses
    status, direct_part = get(origin + part_path)
    assert status == 200
    assert all(a.body == direct_part for a in part_answers)
    assert len({a.body for a in reload_answers}) == 1

    published = part_requests[0].answered_at
    reloaded = reload_requests[0].answered_at
    assert published is not None and reloaded is not None
    waited = sum(a.sent_at < published for a in part_answers)

    # The same burst straight at the origin, for the next hinted part: mediad wakes every
    # blocked request itself (no lock, no timer).
    def the_next_part_directly() -> list[str]:
        hint = next_hint_just_opened(rig)
        return [origin + rig.sibling(f"seg{hint[0]}.{hint[1]}.m4s")] * VIEWERS

    # Only a comparison, printed: a hinted part the segmenter abandons (a keyframe closed its
    # segment first) is a 404 by the spec, so a burst that hit one is tried again.
    for _ in range(3):
        direct = burst(the_next_part_directly, warm_up=origin + warm_up, connections=VIEWERS)
        if {a.status for a in direct} == {200}:
            break
    ok = [a for a in direct if a.status == 200] or direct
    first = min(a.done_at for a in ok)
    print(f"\n{VIEWERS} viewers through the edge, one future part: "
          f"{len(part_requests)} origin request, {waited} sent before it was published, "
          f"at the edge {dict(statuses[part_path])}; "
          f"wake-up (published at the origin → answer) "
          f"{summary([a.done_at - published for a in part_answers])}"
          f"\n{VIEWERS} viewers through the edge, one blocking reload: "
          f"{len(reload_requests)} origin request, at the edge {dict(statuses[reload_path])}; "
          f"wake-up "
          f"{summary([a.done_at - reloaded for a in reload_answers])}"
          f"\n{VIEWERS} viewers at the origin directly, one future part: wake-up after the "
          f"first answer {summary([a.done_at - first for a in ok])}")


def _segments(playlist: m3u8.M3U8) -> list[tuple[int, str, float]]:
    """(msn, uri, duration) of each complete segment."""
    complete = [s for s in playlist.segments if s.uri]
    return [(playlist.media_sequence + i, str(s.uri), float(s.duration))
            for i, s in enumerate(complete)]


def test_a_delta_update_through_the_edge_merges_into_the_origins_playlist(rig: Rig) -> None:
    edge, origin = rig.edge.base_url, rig.daemon.base_url
    previous = m3u8.loads(text(edge + rig.media_path))
    _, hint = position(text(origin + rig.media_path))
    ahead = (hint[0] + 1, 0)  # the next segment's first part: certainly still to come
    delta_url = edge + blocking(rig.media_path, *ahead, skip=True)
    full_url = origin + blocking(rig.media_path, *ahead)
    # Both asked before the part exists, so both are rendered when it appears.
    delta_answer, full_answer = fetch_concurrently([delta_url, full_url])
    assert delta_answer.status == 200 and full_answer.status == 200
    delta_text, full_text = delta_answer.body.decode(), full_answer.body.decode()
    delta, full = m3u8.loads(delta_text), m3u8.loads(full_text)
    assert delta.skip and delta.skip.skipped_segments, delta_text
    skipped = delta.skip.skipped_segments
    assert full.media_sequence == delta.media_sequence, (full_text, delta_text)

    known = {msn: (msn, uri, duration) for msn, uri, duration in _segments(previous)}
    first_kept = delta.media_sequence + skipped
    merged = [known[msn] for msn in range(delta.media_sequence, first_kept)]
    merged += [(first_kept + i, uri, duration)
               for i, (_, uri, duration) in enumerate(_segments(delta))]
    print(f"\ndelta update through the edge: {skipped} segments skipped, "
          f"{len(delta_text)} bytes instead of {len(full_text)}")
    assert merged == _segments(full)
    # The parts and the preload hint, as the origin lists them.
    assert _PART.findall(delta_text) == _PART.findall(full_text)
    assert position(delta_text)[1] == position(full_text)[1]


def test_an_ended_stream_reaches_blocked_viewers_through_the_edge(rig: Rig) -> None:
    edge, origin = rig.edge.base_url, rig.daemon.base_url
    playlist = text(origin + rig.media_path)
    td = target_duration(playlist)
    last, _ = position(playlist)
    future = blocking(rig.media_path, last[0] + 2, 0)  # the furthest the origin waits for

    async def end_while_blocked() -> tuple[float, float, list[Answer]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            viewers = asyncio.ensure_future(_fetch_all(session, [edge + future] * 20))
            await asyncio.sleep(0.3)  # in flight: one at the origin, the rest on the lock
            ending = time.monotonic()
            status, body = await asyncio.to_thread(
                call, rig.daemon, "PUT", f"/api/streams/{rig.stream}/state", rig.token,
                {"state": "ended"})
            assert status == 200, body
            return ending, time.monotonic(), await viewers

    ending, ended, answers = asyncio.run(end_while_blocked())
    assert {a.status for a in answers} == {200}
    assert all(b"#EXT-X-ENDLIST" in a.body for a in answers)
    (at_origin,) = rig.relay.requests(future)
    assert at_origin.answered_at is not None
    delays = [a.done_at - ending for a in answers]
    # A plain reload (no _HLS_msn) is cached at the edge for max(1, TD/2) s, by nginx's
    # whole-second clock: an entry stored with max-age=N stays fresh until its second + N
    # has passed (ngx_http_file_cache: valid_sec = ngx_time() + N, stale once
    # valid_sec < ngx_time()), so up to N + 1 s.
    fresh_for = max(1, td // 2) + 1
    reload_deadline = time.monotonic() + 3 * fresh_for
    while b"#EXT-X-ENDLIST" not in get(edge + rig.media_path)[1]:
        assert time.monotonic() < reload_deadline, "the edge kept serving the live playlist"
        time.sleep(0.05)
    plain = time.monotonic() - ended
    print(f"\nENDLIST through the edge: the API call took {(ended - ending) * 1000:.0f} ms, "
          f"the origin answered the edge {(at_origin.answered_at - ending) * 1000:.0f} ms "
          f"after it began; 20 blocked viewers got it after {summary(delays)}; a plain "
          f"reload after {plain * 1000:.0f} ms (target duration {td} s)")
    # The origin answers the edge's blocked request the moment the playlist ends; the
    # viewers waiting on nginx's cache lock find the cached answer at their next timer
    # tick (at most 500 ms later); that fits in one target duration (1 s here, as LL-HLS
    # with 200 ms parts has it), counted from when the playlist ended at the origin.
    assert max(a.done_at for a in answers) - at_origin.answered_at <= td
    # What LL-HLS players do (the blocking reload above) meets one target duration; a
    # plain reload may see the edge's copy for up to max(1, TD/2) + 1 s (+ this poll).
    assert plain <= fresh_for + 0.25
