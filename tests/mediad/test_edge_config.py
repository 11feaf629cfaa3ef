"""``mediad.edge_config`` and ``mediad edge-config``: what the rendered nginx edge holds,
what it refuses, and the shipped ``conf/nginx-edge.conf`` being its rendering. That nginx
itself accepts and runs the renderings is tests/interop/test_edge_config_nginx.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from mediad.cli import main
from mediad.edge_config import (
    DEFAULT_CACHE_DIR,
    DEFAULT_LISTEN,
    EXAMPLE_ORIGIN,
    EdgeConfigError,
    render_edge_config,
)
from mediad.http.hls import preflight

ROOT = Path(__file__).parent.parent.parent


def render(*origins: str, **options: Any) -> str:
    defaults: dict[str, Any] = {"listen": 8088, "cache_dir": "/var/cache/edge"}
    return render_edge_config(origins or ("10.0.0.5:8080",), **{**defaults, **options})


def values(text: str, directive: str) -> list[str]:
    """The arguments of every ``directive`` in the configuration, comments left out (a
    directive may span lines; nginx ends it at ``;``)."""
    code = " ".join(line.split("#", 1)[0] for line in text.splitlines())
    found = []
    for statement in re.split(r"[;{}]", code):
        words = statement.split(None, 1)
        if words and words[0] == directive:
            found.append(" ".join(words[1].split()) if len(words) > 1 else "")
    return found


def block(text: str, opening: str) -> str:
    """The text between ``opening {`` and its matching brace."""
    start = text.index(opening + " {") + len(opening) + 2
    depth = 1
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"{opening} is not closed")


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s)?", value)
    assert match, value
    return int(match[1]) / 1000 if match[2] == "ms" else int(match[1])


def test_the_shipped_template_is_the_rendering_for_one_local_origin() -> None:
    shipped = (ROOT / "conf" / "nginx-edge.conf").read_text()
    assert shipped == render_edge_config([EXAMPLE_ORIGIN], listen=DEFAULT_LISTEN,
                                         cache_dir=DEFAULT_CACHE_DIR)


def test_every_placeholder_is_filled_and_the_braces_balance() -> None:
    text = render("a.example:8080", "[2001:db8::1]:8080", "10.0.0.7:9000")
    assert not re.search(r"@\w+@", text)
    assert text.count("{") == text.count("}")


def test_the_cache_key_is_the_full_uri_and_playlists_keep_gzip_apart() -> None:
    hls = block(render(), "location /hls/")
    assert values(hls, "proxy_cache_key") == [
        "$scheme$proxy_host$mediad_cache_uri$mediad_variant"]
    assert values(hls, "proxy_ignore_headers") == ["Vary"]
    text = render()
    # The variant is the normalised Accept-Encoding for playlists only; it is also what
    # the origin is sent, so one key never holds both a gzip and an identity body.
    assert "~\\.m3u8$ $mediad_gzip;" in block(text, "map $uri $mediad_variant")
    assert "~\\.m3u8$ $mediad_gzip;" in block(text, "map $uri $mediad_accept_encoding")
    assert "Accept-Encoding $mediad_accept_encoding" in values(text, "proxy_set_header")
    assert values(text, "gzip") == ["off"] and values(text, "gunzip") == []


def _cache_uri(text: str, request_uri: str) -> str:
    """``map $request_uri $mediad_cache_uri`` as nginx evaluates it: the first regex that
    matches, its value with the named captures filled in, else the default."""
    for line in block(text, "map $request_uri $mediad_cache_uri").splitlines():
        found = re.fullmatch(r'\s*"~(.*)" (\S+);', line)
        if found is None:
            continue
        match = re.search(found[1].replace("(?<", "(?P<"), request_uri)
        if match:
            return re.sub(r"\$(\w+)", lambda name, m=match: m[name[1]], found[2])
    return request_uri


@pytest.mark.parametrize("request_uri, key", [
    ("/hls/s/x/720p/seg3.2.m4s", "/hls/s/x/720p/seg3.2.m4s"),
    ("/hls/s/x/720p/seg3.2.m4s?CMCD=bl%3D2100%2Csid%3D%22a%22", "/hls/s/x/720p/seg3.2.m4s"),
    ("/hls/s/x/720p/index.m3u8?CMCD=bl%3D1&_HLS_msn=3&_HLS_part=1",
     "/hls/s/x/720p/index.m3u8?_HLS_msn=3&_HLS_part=1"),
    ("/hls/s/x/720p/index.m3u8?_HLS_msn=3&CMCD=sid%3D%22b%22&_HLS_part=1",
     "/hls/s/x/720p/index.m3u8?_HLS_msn=3&_HLS_part=1"),
    ("/hls/s/x/720p/index.m3u8?_HLS_msn=3&_HLS_part=1&CMCD=su",
     "/hls/s/x/720p/index.m3u8?_HLS_msn=3&_HLS_part=1"),
    ("/hls/s/x/720p/index.m3u8?_HLS_msn=3&XCMCD=1", "/hls/s/x/720p/index.m3u8?_HLS_msn=3&XCMCD=1"),
    ("/vod/r/index.m3u8?CMCD=ot%3Dm", "/vod/r/index.m3u8"),
])
def test_the_cache_key_leaves_out_a_players_cmcd_argument(request_uri: str, key: str) -> None:
    assert _cache_uri(render(), request_uri) == key
    assert values(block(render(), "location /vod/"), "proxy_cache_key") == [
        "$scheme$proxy_host$mediad_cache_uri$mediad_variant"]


@pytest.mark.parametrize("location", ["location /hls/", "location /vod/"])
async def test_preflights_are_answered_at_the_edge_as_the_origin_does(location: str) -> None:
    """A cross-origin player asks a preflight per URL (per part): the edge answers it, with
    the headers the origin allows, and passes none to the origin."""
    origin = await preflight(make_mocked_request("OPTIONS", "/hls/s/x/720p/seg1.2.m4s"))
    options = block(block(render(), location), "if ($request_method = OPTIONS)")
    headers = dict(value.split(" ", 1) for value in values(options, "add_header"))
    assert headers["Access-Control-Allow-Headers"] == \
        f'"{origin.headers["Access-Control-Allow-Headers"]}" always'
    assert headers["Access-Control-Allow-Methods"] == \
        f'"{origin.headers["Access-Control-Allow-Methods"]}" always'
    assert headers["Access-Control-Allow-Origin"] == '"*" always'
    assert values(options, "return") == ["204"]


@pytest.mark.parametrize("block_timeout", [1.0, 2.5, 6.0, 30.0])
def test_collapsing_outlasts_the_origins_blocking_wait(block_timeout: float) -> None:
    hls = block(render(block_timeout_sec=block_timeout), "location /hls/")
    assert values(hls, "proxy_cache_lock") == ["on"]
    for directive in ("proxy_cache_lock_timeout", "proxy_cache_lock_age",
                      "proxy_read_timeout"):
        (value,) = values(hls, directive)
        assert seconds(value) > block_timeout, directive
    (lock,) = values(hls, "proxy_cache_lock_timeout")
    (read,) = values(hls, "proxy_read_timeout")
    assert seconds(read) > seconds(lock)


def test_stale_and_error_caching_on_hls() -> None:
    hls = block(render(), "location /hls/")
    assert values(hls, "proxy_cache_use_stale")[0].startswith("updating error timeout")
    assert "404 410 1s" in values(hls, "proxy_cache_valid")
    # CORS comes from the origin, cached with the response; only preflights are answered
    # here (test_preflights_are_answered_at_the_edge_as_the_origin_does).
    assert [header for header in values(render(), "add_header")
            if not header.startswith("Access-Control-")] == [
        "X-Cache-Status $upstream_cache_status always"]


def test_headers_are_set_once_for_every_location() -> None:
    """A location with any proxy_set_header of its own inherits none of the http block's:
    Via (viewer counting), keep-alive and X-Forwarded-For would silently go missing."""
    text = render()
    server = block(text, "server")
    assert values(server, "proxy_set_header") == []
    headers = dict(value.split(None, 1) for value in values(text, "proxy_set_header"))
    assert headers["Via"] == '"1.1 mediad-edge"'
    assert headers["Connection"] == "$mediad_connection"
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert values(text, "proxy_http_version") == ["1.1"]
    assert '"" "";' in block(text, "map $http_upgrade $mediad_connection")


def test_several_origins_share_one_keepalive_upstream_hashed_by_stream() -> None:
    text = render("10.0.0.5:8080", "origin-b.example:8080", "[::1]:8081")
    upstream = block(text, "upstream mediad_origins")
    assert values(upstream, "server") == ["10.0.0.5:8080", "origin-b.example:8080",
                                          "[::1]:8081"]
    assert values(upstream, "hash") == ["$mediad_stream consistent"]
    assert values(upstream, "keepalive") == ["64"]
    assert values(text, "proxy_next_upstream") == ["error timeout http_404"]
    assert values(text, "proxy_next_upstream_tries") == ["3"]


def test_uncached_paths_are_not_cached_and_stream_bodies() -> None:
    text = render()
    for path in ("/api/", "/whip/", "/whep/", "/ws/", "/"):
        location = block(text, f"location {path}")
        assert values(location, "proxy_cache") == [], path
        assert values(location, "proxy_pass") == ["http://mediad_origins"], path
    for path in ("/api/", "/whip/", "/whep/"):
        assert values(block(text, f"location {path}"), "proxy_request_buffering") == ["off"]
    assert seconds(values(block(text, "location /ws/"), "proxy_read_timeout")[0]) >= 3600
    for path in ("/hls/", "/vod/", "/thumbs/"):
        assert values(block(text, f"location {path}"), "proxy_cache") == ["mediad_edge"]


def test_options_land_where_nginx_reads_them() -> None:
    text = render(listen="127.0.0.1:9000", cache_dir="/srv/edge/", cache_size="512M",
                  server_name="live.example.org  edge.example.org", user="nginx")
    assert values(text, "listen") == ["127.0.0.1:9000 reuseport backlog=4096"]
    assert values(text, "server_name") == ["live.example.org edge.example.org"]
    assert values(text, "user") == ["nginx"]
    (cache_path,) = values(text, "proxy_cache_path")
    assert cache_path.startswith("/srv/edge/cache levels=1:2 keys_zone=mediad_edge:")
    assert "max_size=512m" in cache_path and "use_temp_path=off" in cache_path
    assert values(text, "proxy_temp_path") == ["/srv/edge/proxy_temp"]
    assert values(render(listen=80), "listen") == ["80 reuseport backlog=4096"]


@pytest.mark.parametrize("origin", [
    "", "origin", "origin:", ":8080", "origin:0", "origin:65536", "origin:80a",
    "999.0.0.1:80", "[not-v6]:80", "[::1:80", "bad_host:80", "-lead.example:80",
    "a b:80", "host;evil:80", "host}:80",
])
def test_a_bad_origin_is_refused(origin: str) -> None:
    with pytest.raises(EdgeConfigError):
        render(origin)


@pytest.mark.parametrize("options", [
    {"listen": 0}, {"listen": 70000}, {"listen": "x"}, {"listen": "bad host:80"},
    {"cache_dir": "relative/dir"}, {"cache_dir": "/with space"}, {"cache_dir": "/a;b"},
    {"cache_dir": "/$x"}, {"cache_dir": "/"},
    {"cache_size": "1t"}, {"cache_size": "0"}, {"cache_size": "big"}, {"cache_size": "1g;"},
    {"server_name": ""}, {"server_name": "a;b"}, {"server_name": "a{"},
    {"user": "root;"}, {"user": ""}, {"block_timeout_sec": 0},
])
def test_a_bad_option_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(EdgeConfigError):
        render(**options)


def test_no_origin_or_a_repeated_one_is_refused() -> None:
    with pytest.raises(EdgeConfigError):
        render_edge_config([], listen=8088, cache_dir="/var/cache/edge")
    with pytest.raises(EdgeConfigError):
        render("a.example:80", "a.example:80")


def test_the_command_writes_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edge-config", "--origin", EXAMPLE_ORIGIN]) == 0
    assert capsys.readouterr().out == (ROOT / "conf" / "nginx-edge.conf").read_text()


def test_the_command_writes_a_file_with_the_configs_block_timeout(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mediad.toml"
    config.write_text("[hls]\nblock_timeout_sec = 12\n")
    out = tmp_path / "edge.conf"
    assert main(["-c", str(config), "edge-config", "--origin", "a.example:8080",
                 "--origin", "b.example:8081", "--listen", "8443", "--cache-dir",
                 str(tmp_path), "--cache-size", "4g", "-o", str(out)]) == 0
    text = out.read_text()
    assert text == render_edge_config(["a.example:8080", "b.example:8081"], listen=8443,
                                      cache_dir=tmp_path, cache_size="4g",
                                      block_timeout_sec=12)
    assert values(block(text, "location /hls/"), "proxy_cache_lock_timeout") == ["14s"]
    assert str(out) in capsys.readouterr().err


@pytest.mark.parametrize("arguments", [
    ["--origin", "nope"], ["--origin", "a.example:80", "--listen", "65536"],
    ["--origin", "a.example:80", "--cache-dir", "var/cache"],
])
def test_the_command_refuses_bad_arguments(
        arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edge-config", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("mediad edge-config: ")


def test_the_command_needs_an_origin(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["edge-config"])
    assert exited.value.code == 2
    assert "--origin" in capsys.readouterr().err


def test_the_command_reports_an_unwritable_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "edge.conf"
    assert main(["edge-config", "--origin", "a.example:80", "-o", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err
