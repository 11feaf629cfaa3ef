"""``mediad edge-config``: an nginx edge configuration for a list of origins, so that a
self-hoster need not edit ``conf/nginx-edge.conf`` by hand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mediad.config import Config
from mediad.edge_config import (
    DEFAULT_CACHE_DIR,
    DEFAULT_CACHE_SIZE,
    DEFAULT_LISTEN,
    DEFAULT_ORIGIN_CA,
    DEFAULT_USER,
    EdgeConfigError,
    render_edge_config,
)


def add_edge_command(sub: Any) -> None:
    edge = sub.add_parser(
        "edge-config", help="write an nginx caching-edge configuration for mediad origins",
        description="Writes a complete nginx.conf for a caching LL-HLS edge in front of the "
                    "given origins; its timeouts follow this config's hls.block_timeout_sec.")
    edge.add_argument("--origin", action="append", required=True, metavar="HOST:PORT",
                      help="a mediad origin's HTTP address; repeat for several origins")
    edge.add_argument("--listen", default=str(DEFAULT_LISTEN), metavar="[ADDR:]PORT",
                      help=f"where the edge listens (default {DEFAULT_LISTEN})")
    edge.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, metavar="DIR",
                      help=f"the edge's cache and temporary files (default {DEFAULT_CACHE_DIR})")
    edge.add_argument("--cache-size", default=DEFAULT_CACHE_SIZE, metavar="SIZE",
                      help=f"the most disk the cache uses, like 512m or 4g "
                           f"(default {DEFAULT_CACHE_SIZE})")
    edge.add_argument("--server-name", default="_", metavar="NAMES",
                      help="nginx server_name: the edge's host names (default _: any)")
    edge.add_argument("--user", default=DEFAULT_USER,
                      help=f"the account nginx's workers run as (default {DEFAULT_USER})")
    edge.add_argument("--origin-tls", action=argparse.BooleanOptionalAction, default=None,
                      help="the origins speak HTTPS (default: as this config's "
                           "server.tls_cert says)")
    edge.add_argument("--origin-tls-name", metavar="NAME",
                      help="the name the origins' certificates hold, checked and sent as SNI "
                           "(default: the origins' host)")
    edge.add_argument("--origin-ca", default=DEFAULT_ORIGIN_CA, metavar="FILE",
                      help=f"the CAs the origins' certificates are checked against "
                           f"(default {DEFAULT_ORIGIN_CA})")
    edge.add_argument("-o", "--output", metavar="FILE",
                      help="write the configuration here (default: standard output)")


def run_edge_command(config: Config, args: argparse.Namespace) -> int:
    """0 with the configuration written; 2 (the config-error code) on a bad argument."""
    try:
        text = render_edge_config(
            args.origin, listen=args.listen, cache_dir=args.cache_dir,
            cache_size=args.cache_size, server_name=args.server_name, user=args.user,
            block_timeout_sec=config.hls.block_timeout_sec,
            origin_tls=config.server.tls if args.origin_tls is None else args.origin_tls,
            origin_tls_name=args.origin_tls_name, origin_ca=args.origin_ca)
    except EdgeConfigError as exc:
        print(f"mediad edge-config: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text)
    except OSError as exc:
        print(f"mediad edge-config: cannot write {args.output}: {exc.strerror}",
              file=sys.stderr)
        return 1
    print(f"wrote {args.output}; check it with: nginx -t -c {Path(args.output).resolve()}",
          file=sys.stderr)
    return 0
