"""The nginx configuration of a caching LL-HLS edge in front of one or more mediad origins.

``render_edge_config`` fills ``TEMPLATE`` (kept here, not read from ``conf/``, so that an
installed wheel renders it too); ``conf/nginx-edge.conf`` is its rendering for one origin
at 127.0.0.1:8080, and a test keeps the two equal. The comments in the template are the
documentation of every choice; the timeouts are derived from ``hls.block_timeout_sec``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Sequence

from mediad.config import HlsConfig

DEFAULT_BLOCK_TIMEOUT_SEC = HlsConfig().block_timeout_sec
DEFAULT_LISTEN = 8088
DEFAULT_CACHE_DIR = "/var/cache/mediad-edge"
DEFAULT_CACHE_SIZE = "1g"
DEFAULT_USER = "www-data"
DEFAULT_ORIGIN_CA = "/etc/ssl/certs/ca-certificates.crt"
"""Debian's bundle of the system's trusted CAs (Let's Encrypt's among them)."""
EXAMPLE_ORIGIN = "127.0.0.1:8080"
"""``conf/nginx-edge.conf`` is the rendering for this origin with the defaults."""

PREFLIGHT_HEADERS = "Range, CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session"
"""The request headers a media request may carry cross-origin: the origin's preflight
(``mediad.http.hls.preflight``) allows the same."""

_PREFLIGHT = """\
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin "*" always;
                add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
                add_header Access-Control-Allow-Headers "@PREFLIGHT_HEADERS@" always;
                add_header Access-Control-Max-Age 86400 always;
                return 204;
            }"""
"""A location's answer to CORS preflights (in /hls/ and /vod/)."""

_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_SIZE = re.compile(r"[1-9]\d{0,12}[kKmMgG]?")
_SERVER_NAME = re.compile(r"(?:\*\.)?[A-Za-z0-9_.-]+(?:\.\*)?")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_PATH_UNSAFE = re.compile(r"[\s;{}\"'$#\\]")


class EdgeConfigError(ValueError):
    """An origin, port, path or size that cannot go into the configuration."""


def _port(text: str, what: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise EdgeConfigError(f"{what}: the port must be 1-65535, got {text!r}")
    return int(text)


def parse_origin(origin: str) -> str:
    """``host:port`` (a name, an IPv4 address or ``[IPv6]``) checked and returned as is."""
    host, colon, port = origin.rpartition(":")
    if not colon or not host:
        raise EdgeConfigError(f"origin {origin!r}: expected host:port")
    _port(port, f"origin {origin!r}")
    if not _is_host(host):
        raise EdgeConfigError(f"origin {origin!r}: {host!r} is not a host name or address")
    return origin


def _is_host(host: str) -> bool:
    """A DNS name, an IPv4 address, or an IPv6 address in brackets."""
    try:
        if host.startswith("[") and host.endswith("]"):
            return ipaddress.ip_address(host[1:-1]).version == 6
        if host.replace(".", "").isdigit():
            return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False
    return _HOSTNAME.fullmatch(host) is not None


def parse_listen(listen: int | str) -> str:
    """A port, or ``address:port``, as nginx's ``listen`` takes it."""
    if isinstance(listen, int):
        return str(_port(str(listen), "listen"))
    if ":" not in listen:
        return str(_port(listen, "listen"))
    return parse_origin(listen)


def _path(path: str | os.PathLike[str], what: str) -> str:
    text = os.fspath(path).rstrip("/") or "/"
    if not os.path.isabs(text) or _PATH_UNSAFE.search(text) or text == "/":
        raise EdgeConfigError(
            f"{what} {text!r}: an absolute path without spaces, quotes, ';', '{{', '}}' or '$'")
    return text


def _cache_dir(path: str | os.PathLike[str]) -> str:
    return _path(path, "cache dir")


def _cache_size(size: str) -> str:
    if not _SIZE.fullmatch(size):
        raise EdgeConfigError(f"cache size {size!r}: a number with k, m or g, like 1g or 512m")
    return size.lower()


def _server_name(names: str) -> str:
    parts = names.split()
    if not parts or not all(_SERVER_NAME.fullmatch(part) for part in parts):
        raise EdgeConfigError(f"server name {names!r}: host names separated by spaces, or _")
    return " ".join(parts)


def _user(user: str) -> str:
    if not _USER.fullmatch(user):
        raise EdgeConfigError(f"user {user!r}: an account name")
    return user


def _origin_host(origin: str) -> str:
    return origin.rpartition(":")[0].strip("[]")


def _origin_tls(origins: Sequence[str], name: str | None, ca: str) -> str:
    """The directives for origins that speak HTTPS (``server.tls_cert``): the edge checks
    each origin's certificate for ``name`` (default: the origins' one host name) and sends
    it as SNI, since nginx would otherwise name the upstream group."""
    if name is None:
        hosts = {_origin_host(origin) for origin in origins}
        if len(hosts) > 1:
            raise EdgeConfigError("origins over TLS on different hosts: give the one name "
                                  "their certificates all hold (--origin-tls-name)")
        name = hosts.pop()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        if _HOSTNAME.fullmatch(name) is None:
            raise EdgeConfigError(f"origin TLS name {name!r}: a DNS name") from None
    else:  # nginx checks an upstream certificate's DNS names only, never its addresses
        raise EdgeConfigError(f"origin TLS name {name!r}: nginx checks a DNS name only; give "
                              "--origin-tls-name, a DNS name the origins' certificates hold")
    ca_file = _path(ca, "origin CA file")
    return ("\n    # The origins speak HTTPS: their certificate is checked for this name against"
            "\n    # the trusted CAs, and the name goes as SNI (not the upstream group's)."
            "\n    proxy_ssl_server_name on;"
            f"\n    proxy_ssl_name {name};"
            "\n    proxy_ssl_verify on;"
            f"\n    proxy_ssl_trusted_certificate {ca_file};"
            "\n    proxy_ssl_verify_depth 3;"
            "\n    proxy_ssl_protocols TLSv1.2 TLSv1.3;"
            "\n    proxy_ssl_session_reuse on;  # kept-alive and new upstream connections")


def render_edge_config(origins: Sequence[str], *, listen: int | str,
                       cache_dir: str | os.PathLike[str], cache_size: str = DEFAULT_CACHE_SIZE,
                       server_name: str = "_", user: str = DEFAULT_USER,
                       block_timeout_sec: float = DEFAULT_BLOCK_TIMEOUT_SEC,
                       origin_tls: bool = False, origin_tls_name: str | None = None,
                       origin_ca: str = DEFAULT_ORIGIN_CA) -> str:
    """A complete nginx.conf for an edge in front of ``origins`` (``host:port`` each).

    ``cache_dir`` is the edge's working directory: the cache in ``cache/``, nginx's
    temporary files beside it; it must exist and be writable by nginx's workers.
    ``user`` is the account the workers run as when nginx starts as root (a test or a
    benchmark running as root in a private temporary directory passes its own user).
    ``block_timeout_sec`` is the origins' ``hls.block_timeout_sec``. ``origin_tls``: the
    origins speak HTTPS, checked against ``origin_ca`` for ``origin_tls_name``.
    """
    if not origins:
        raise EdgeConfigError("at least one origin")
    checked = [parse_origin(origin) for origin in origins]
    if len(set(checked)) != len(checked):
        raise EdgeConfigError("an origin is listed twice")
    if not 0 < block_timeout_sec <= 600:
        raise EdgeConfigError(f"block timeout {block_timeout_sec}: 0-600 s")
    block = math.ceil(block_timeout_sec)
    values = {
        "LISTEN": parse_listen(listen),
        "SERVER_NAME": _server_name(server_name),
        "USER": _user(user),
        "DIR": _cache_dir(cache_dir),
        "CACHE_SIZE": _cache_size(cache_size),
        "SERVERS": "\n".join(f"    server {origin};" for origin in checked),
        "TRIES": str(len(checked)),
        "BLOCK": str(block),
        "LOCK": str(block + 2),
        "READ": str(block + 4),
        "PREFLIGHT": _PREFLIGHT.replace("@PREFLIGHT_HEADERS@", PREFLIGHT_HEADERS),
        "SCHEME": "https" if origin_tls else "http",
        "ORIGIN_TLS": _origin_tls(checked, origin_tls_name, origin_ca) if origin_tls else "",
    }
    return re.sub(r"@(\w+)@", lambda match: values[match[1]], TEMPLATE)


TEMPLATE = r"""# mediad caching edge for LL-HLS (nginx >= 1.19; written for Debian's nginx 1.22).
# Rendered by `mediad edge-config`; see README "Scaling out". Run it as the whole nginx
# configuration: nginx -c /etc/nginx/mediad-edge.conf (or copy it to /etc/nginx/nginx.conf).
#
# Origins' hls.block_timeout_sec: @BLOCK@ s. Every timeout below that a blocking request
# passes through is longer than that, so the origin, not the edge, ends a blocking wait.

# Started as root, the master switches its workers to this account, which must be able
# to write the cache directory (nginx creates it and its siblings below for that user).
user @USER@;
worker_processes auto;

events {
    # Each viewer holds about two connections (a blocking playlist and a part request);
    # the open-files limit (systemd's LimitNOFILE) must allow as many per worker.
    worker_connections 16384;
}

http {
    # Where the edge keeps its state: created by nginx's master at start (one level).
    client_body_temp_path @DIR@/client_body_temp;
    proxy_temp_path @DIR@/proxy_temp;
    fastcgi_temp_path @DIR@/fastcgi_temp;
    uwsgi_temp_path @DIR@/uwsgi_temp;
    scgi_temp_path @DIR@/scgi_temp;

    # Access log: nginx's default (Debian: /var/log/nginx/access.log). To see hits and
    # misses, add: access_log /var/log/nginx/mediad-edge.log mediad_edge buffer=64k;
    log_format mediad_edge '$remote_addr [$time_local] "$request" $status '
                           '$body_bytes_sent $request_time $upstream_cache_status';

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000;  # a player reuses one connection for thousands of parts
    server_tokens off;
    types { }                  # Content-Type comes from the origin, never guessed here
    default_type application/octet-stream;

    # Pass the origin's gzip through: no gunzip, no second compression at the edge.
    gzip off;

    # The cache: levels=1:2 spreads files over 4096 directories; keys_zone holds the keys
    # in shared memory (1 MB ~ 8,000 keys; 64 MB ~ 500,000 parts); max_size bounds the disk
    # (put the directory on tmpfs for a RAM cache); inactive drops what nobody asked for in
    # 10 minutes (parts are useless after the DVR window anyway); use_temp_path=off writes
    # responses straight into the cache directory instead of copying them from proxy_temp.
    proxy_cache_path @DIR@/cache levels=1:2 keys_zone=mediad_edge:64m
                     max_size=@CACHE_SIZE@ inactive=10m use_temp_path=off;

    # Playlists are gzip'ed for clients that accept it (the origin sends
    # Vary: Accept-Encoding). nginx honours Vary by keeping one variant per distinct
    # Accept-Encoding *string*, which splits viewers and defeats collapsing; instead, for
    # playlists, the header is normalised to "gzip" or "", sent to the origin as such and
    # made part of the cache key ($mediad_variant). Parts, segments and init sections are
    # never compressed and have one entry whatever the client accepts. Vary still reaches
    # the client (proxy_ignore_headers Vary only stops nginx's own use of it).
    map $http_accept_encoding $mediad_gzip {
        "~*(?:^|[\s,])gzip(?![\w-])" gzip;
        default "";
    }
    map $uri $mediad_variant {
        ~\.m3u8$ $mediad_gzip;
        default "";
    }
    map $uri $mediad_accept_encoding {
        ~\.m3u8$ $mediad_gzip;
        default $http_accept_encoding;
    }

    # The cache key's URI: the request's, less a CMCD query argument (CTA-5004's query
    # form, which players such as dash.js and Shaka use by default: per viewer and per
    # request, it would make every URL unique and defeat caching and collapsing). The
    # origin still receives it on a miss (proxy_pass sends the request's URI as is).
    map $request_uri $mediad_cache_uri {
        "~^(?<path>[^?]*)\?CMCD=[^&]*$" $path;
        "~^(?<head>[^?]*\?)CMCD=[^&]*&(?<tail>.*)$" $head$tail;
        "~^(?<head>[^?]*\?.*?)&CMCD=[^&]*(?<tail>.*)$" $head$tail;
        default $request_uri;
    }

    # WebSocket upgrades keep "Upgrade"; everything else reuses upstream connections.
    map $http_upgrade $mediad_connection {
        "" "";
        default upgrade;
    }

    # The stream a request belongs to: one stream's requests go to one origin.
    map $uri $mediad_stream {
        ~^/(?:hls|whep|whip|ws/streams|api/streams)/(?<id>[^/]+) $id;
        ~^/thumbs/(?<id>[^/]+)\.jpg$ $id;
        default $uri;
    }

    # Several origins: a stream lives on the origin its encoder publishes to. The edge
    # sends a stream's requests to the origin its id hashes to and, when that origin
    # answers 404 (it does at once for a stream it does not hold), tries the next one
    # (proxy_next_upstream http_404 below). Publishing each stream to the origin the
    # hash picks saves that extra request per cache miss; a 404 never marks an origin down.
    upstream mediad_origins {
        hash $mediad_stream consistent;
@SERVERS@
        keepalive 64;           # idle connections kept per worker
        keepalive_requests 100000;
        keepalive_timeout 60s;
    }

    # Shared by every location (a location that set any proxy_set_header of its own
    # would inherit none of these, so none does): HTTP/1.1 with keep-alive, WebSocket
    # upgrades, the normalised Accept-Encoding, and who asked.
    proxy_http_version 1.1;
    proxy_set_header Connection $mediad_connection;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Accept-Encoding $mediad_accept_encoding;
    proxy_set_header Host $host;
    proxy_set_header Via "1.1 mediad-edge";  # mediad counts no viewer from such a request
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;@ORIGIN_TLS@
    proxy_connect_timeout 3s;
    proxy_send_timeout 30s;
    proxy_read_timeout 30s;
    proxy_next_upstream error timeout http_404;
    proxy_next_upstream_tries @TRIES@;  # each origin at most once

    server {
        listen @LISTEN@ reuseport backlog=4096;
        server_name @SERVER_NAME@;

        # HIT, MISS, EXPIRED, STALE, UPDATING... on every cached path's responses, errors too.
        add_header X-Cache-Status $upstream_cache_status always;

        # LL-HLS: playlists, parts, segments, init sections.
        location /hls/ {
            # CORS preflights (a cross-origin player sending Range or CMCD-* headers asks
            # one per URL, so one per part): answered here as the origin would, never passed
            # on (nginx caches no OPTIONS, so each would reach the origin).
@PREFLIGHT@
            proxy_pass @SCHEME@://mediad_origins;

            proxy_cache mediad_edge;
            # The full URI, query string included: _HLS_msn, _HLS_part and _HLS_skip make
            # each blocking reload and delta update its own entry, and mediad puts nothing
            # per viewer in a URL; a player's CMCD argument is left out ($mediad_cache_uri).
            # $mediad_variant keeps gzip and identity playlists apart.
            proxy_cache_key $scheme$proxy_host$mediad_cache_uri$mediad_variant;
            proxy_ignore_headers Vary;

            # Collapsing: N viewers asking for the same part or blocking playlist before it
            # exists cause one origin request; the others wait for it to be cached.
            # LIMITATION (nginx's ngx_http_file_cache_lock): a waiter is not woken when the
            # response lands; it re-checks the cache every 500 ms (or at its lock timeout,
            # if sooner). So the first viewer gets a part the moment the origin publishes it
            # and the waiters up to 500 ms later. A lock timeout under 500 ms makes them
            # re-check sooner, but a waiter whose timeout passes goes to the origin itself,
            # uncached: under a blocking request that is one origin request per viewer. This
            # configuration chooses one origin request per part: the lock outlasts the
            # origin's blocking wait.
            proxy_cache_lock on;
            proxy_cache_lock_timeout @LOCK@s;
            proxy_cache_lock_age @LOCK@s;
            proxy_read_timeout @READ@s;

            # Freshness comes from the origin's Cache-Control: blocking playlists
            # max-age=6*target duration, parts, segments and init sections a year and
            # immutable, playlists without a query max(1, TD/2) s (nginx counts whole
            # seconds: 1 s is the least it caches anything for), errors a few seconds (so a
            # dead stream does not hammer the origin). proxy_cache_valid applies only to a
            # response without Cache-Control or Expires:
            proxy_cache_valid 200 1s;
            proxy_cache_valid 404 410 1s;
            proxy_cache_valid 500 502 503 504 1s;

            # A playlist being refreshed is served stale to the others meanwhile, and an
            # origin that fails serves what is cached rather than an error.
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update off;

            # A cached response must be buffered (proxy_buffering on, the default); these
            # hold a typical part in memory before it goes to the cache file.
            proxy_buffer_size 16k;
            proxy_buffers 32 16k;

            # CORS (Access-Control-Allow-Origin: *, Expose-Headers: Age) comes from the
            # origin and is cached with the response. nginx adds no Age header to a cached
            # response (stock nginx has no variable for an entry's age), so players see none.
        }

        # Replays: immutable media and their playlists, cached by the origin's headers; a
        # private replay's responses say "private" and nginx stores none of them.
        location /vod/ {
@PREFLIGHT@
            proxy_pass @SCHEME@://mediad_origins;
            proxy_cache mediad_edge;
            proxy_cache_key $scheme$proxy_host$mediad_cache_uri$mediad_variant;
            proxy_ignore_headers Vary;
            proxy_cache_lock on;
            proxy_cache_valid 200 10s;
            proxy_cache_valid 404 1s;
            proxy_cache_use_stale updating error timeout;
        }

        # Stream thumbnails: cached as long as the origin says (its thumbnail interval).
        location /thumbs/ {
            proxy_pass @SCHEME@://mediad_origins;
            proxy_cache mediad_edge;
            proxy_cache_key $scheme$proxy_host$request_uri;
            proxy_cache_valid 200 5s;
            proxy_cache_valid any 1s;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
        }

        # Chat, presence and health: WebSocket, never cached; idle sockets live an hour.
        location /ws/ {
            proxy_pass @SCHEME@://mediad_origins;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_buffering off;
        }

        # The API, WHIP ingest and WHEP playback: proxied, never cached, bodies streamed
        # to the origin as they come, at most the origin's own limit (1 MiB).
        location /api/ {
            proxy_pass @SCHEME@://mediad_origins;
            proxy_request_buffering off;
            proxy_buffering off;
            client_max_body_size 1m;
        }
        location /whip/ {
            proxy_pass @SCHEME@://mediad_origins;
            proxy_request_buffering off;
            proxy_buffering off;
            client_max_body_size 1m;
        }
        location /whep/ {
            proxy_pass @SCHEME@://mediad_origins;
            proxy_request_buffering off;
            proxy_buffering off;
            client_max_body_size 1m;
        }

        # The web app and everything else (/healthz, /assets/): proxied; the origin's
        # Cache-Control decides what the browser keeps.
        location / {
            proxy_pass @SCHEME@://mediad_origins;
        }
    }
}
"""
