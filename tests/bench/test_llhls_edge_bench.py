"""The edge benchmark's measures read what they claim: wake-up delays against the watched
playlist's publication times, origin requests sorted by kind within a window, the load
generator blamed only when it ran out of CPU, and (with a real nginx) an origin log that
holds the requests the edge passed upstream and nothing it answered from its cache."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.llhls_edge_measures import (
    busy_ticks,
    count_origin_requests,
    delivered_share,
    expected_request_rate,
    load_generator_limits,
    parts_in,
    viewed_publications,
    wake_delays_ms,
)
from bench.llhls_edge_nginx import (
    EdgeNginx,
    OriginRequest,
    parse_origin_log,
    with_lock_timeout,
    with_origin_log,
)


def test_delays_are_read_against_the_watched_playlist(tmp_path: Path) -> None:
    log = tmp_path / "publications.json"
    log.write_text(json.dumps({"playlists": [
        [[1, 0, 50.0, 0.0, 0.0]],  # another stream's playlist: one part in common
        [[1, 0, 10.0, 0.0, 0.0], [1, 1, 10.2, 0.0, 0.0], [1, 2, 10.4, 0.0, 0.0]],
    ]}))
    receipts = [(1, 0, 10.005), (1, 1, 10.25), (1, 2, 10.9), (9, 9, 11.0)]
    listed = viewed_publications(log, receipts)
    assert wake_delays_ms(listed, receipts) == pytest.approx([5.0, 50.0, 500.0])
    assert parts_in(listed, 10.1, 10.4) == 1


def test_origin_requests_are_counted_by_kind_within_the_window() -> None:
    base = "/hls/s/sess/source/"
    log = "\n".join([
        f"99.9 MISS 200 {base}seg4.0.m4s",  # before the window
        f"100.1 MISS 200 {base}seg5.0.m4s",
        f"100.2 - 200 {base}seg5.0.m4s",  # a waiter whose lock timed out: uncached
        f"100.3 MISS 200 {base}seg5.1.m4s",
        f"100.4 MISS 200 {base}index.m3u8?_HLS_msn=5&_HLS_part=1",
        f"100.5 EXPIRED 200 {base}index.m3u8",
        f"101.0 MISS 200 {base}seg5.2.m4s",  # the window's end is open
        "garbage",
    ])
    requests = parse_origin_log(log)
    assert requests[1] == OriginRequest(100.1, "MISS", "200", f"{base}seg5.0.m4s")
    counts = count_origin_requests(requests, 100.0, 101.0, parts=2)
    assert (counts.part_requests, counts.playlist_requests, counts.other_requests) == (3, 1, 1)
    assert counts.most_for_one_part == 2
    assert counts.part_requests_per_part == 1.5
    assert counts.per_part == 1.5  # the worse of part files and blocking reloads


def test_the_viewers_are_blamed_only_when_out_of_cpu() -> None:
    expected = expected_request_rate(1000, 0.2)
    assert expected == 10_000
    # A slow server holds idle viewers back: not the load generator's fault.
    assert load_generator_limits([0.3, 0.3], 6000, expected, 2, 1.2) == []
    busy = load_generator_limits([0.95, 0.4], 6000, expected, 2, 1.6)
    assert len(busy) == 2 and "0.95 of a core" in busy[0] and "6000" in busy[1]
    saturated = load_generator_limits([0.6, 0.6], 9500, expected, 2, 1.9)
    assert saturated == ["the machine was saturated (1.90 of 2 cores busy, 1.20 of them "
                         "the viewers')"]


def test_machine_load_and_delivered_share() -> None:
    stat = "cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n"
    assert busy_ticks(stat) == (170, 990)  # idle 800 + iowait 20 of the first eight
    assert delivered_share(900, 10, 100) == 0.9
    assert delivered_share(0, 0, 100) != delivered_share(0, 0, 100)  # nan: nothing asked


def test_config_edits_keep_a_lock_timeout_and_add_the_log() -> None:
    config = "events {}\nhttp {\n  proxy_cache_lock_timeout 8s;\n}\n"
    edited = with_lock_timeout(with_origin_log(config, Path("/x/origin.log")), 100)
    assert "proxy_cache_lock_timeout 100ms;" in edited
    assert "access_log /x/origin.log mediad_origin buffer=64k flush=1s if=$mediad_to_origin;" \
        in edited.split("http {", 1)[1]
    with pytest.raises(ValueError):
        with_lock_timeout("http {\n}\n", 100)


class _Origin(BaseHTTPRequestHandler):
    served: list[str] = []

    def do_GET(self) -> None:  # http.server calls it by this name
        type(self).served.append(self.path)
        body = b"part"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[ThreadingHTTPServer]:
    _Origin.served = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.interop
def test_the_origin_log_holds_upstream_requests_only(origin: ThreadingHTTPServer,
                                                     tmp_path: Path) -> None:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed")
    address = f"127.0.0.1:{origin.server_address[1]}"
    edge = EdgeNginx(address, tmp_path / "nginx", tmp_path / "cache")
    with edge:
        for _ in range(3):
            with urllib.request.urlopen(f"{edge.base_url}/hls/s/x/source/seg1.0.m4s",
                                        timeout=10) as response:
                assert response.read() == b"part"
    requests = edge.origin_requests()  # stopped: its log buffer is written out
    assert _Origin.served == ["/hls/s/x/source/seg1.0.m4s"]
    assert [(r.cache_status, r.upstream_status, r.uri) for r in requests] == [
        ("MISS", "200", "/hls/s/x/source/seg1.0.m4s")]
