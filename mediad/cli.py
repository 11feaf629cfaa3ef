"""``mediad`` command line: serve, check-config, doctor, streams, user, edge-config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from mediad import __version__
from mediad.cli_doctor import add_doctor_command, run_doctor_command
from mediad.cli_edge import add_edge_command, run_edge_command
from mediad.cli_users import add_user_commands, run_user_command
from mediad.config import ENV_PREFIX, Config, ConfigError, load_config
from mediad.logs import setup_logging
from mediad.store import Store, StoreError
from mediad.tls import TlsError, check_tls_files
from mediad.urls import Ports, hls_url, player_url, rtmp_server_url, rtmps_server_url, srt_url

log = logging.getLogger("mediad")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mediad", description="Self-hosted live streaming.")
    parser.add_argument(
        "-c", "--config", default=os.environ.get(ENV_PREFIX + "CONFIG"),
        help="TOML config file (default: $MEDIAD_CONFIG, else the embedded defaults)",
    )
    parser.add_argument("--version", action="version", version=f"mediad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the daemon")
    serve.add_argument("--log-format", choices=["human", "json"], help="override server.log_format")
    serve.add_argument("--json-logs", action="store_const", const="json", dest="log_format",
                       help="same as --log-format json")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    sub.add_parser("check-config", help="validate the config file and exit")
    streams = sub.add_parser("streams", help="list streams with their ingest and player URLs")
    streams.add_argument("--reveal", action="store_true", help="show the keys unmasked")
    add_user_commands(sub)
    add_edge_command(sub)
    add_doctor_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # a config that does not load is one of its findings
        setup_logging("human", "error")
        return run_doctor_command(args.config, args)
    warnings: list[str] = []
    try:
        config = load_config(args.config, warnings=warnings)
    except ConfigError as exc:
        print(f"mediad: bad configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command in ("serve", "check-config") and config.transcode.enabled:
        from packager.transcode import EncoderUnavailable, check_encoder

        try:
            check_encoder(config.transcode.encoder)
        except EncoderUnavailable as exc:
            print(f"mediad: bad configuration: transcode.encoder: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if args.command in ("serve", "check-config"):
        try:
            check_tls_files(config.server)  # a missing or mismatched file, named, before start
        except TlsError as exc:
            print(f"mediad: bad configuration: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if args.command == "serve":
        setup_logging(args.log_format or config.server.log_format,
                      args.log_level or config.server.log_level)
    else:
        setup_logging("human", "warning")
    for warning in warnings:
        log.warning("config: %s", warning)
    if args.command == "check-config":
        print("configuration OK")
        return 0
    if args.command == "edge-config":
        return run_edge_command(config, args)
    try:
        if args.command == "serve":
            return _run(_serve(config))
        if args.command == "user":
            return _run(run_user_command(config, args))
        return _run(_list_streams(config, reveal=args.reveal))
    except ConfigError as exc:  # the TLS files changed between the check and the start
        log.error("bad configuration: %s", exc)
        return EXIT_CONFIG
    except StoreError as exc:
        log.error("store: %s", exc)
        return 1
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(coro: object) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]


async def _serve(config: Config) -> int:
    from mediad.daemon import serve

    await serve(config)
    return 0


async def _list_streams(config: Config, *, reveal: bool) -> int:
    store = await Store.open(config.storage.database_path)
    ports = Ports(config.server.http_port, config.rtmp.port, config.srt.port,
                  config.rtmp.tls_port)
    rtmps = rtmps_server_url(config, ports)
    try:
        for stream in await store.streams.list():
            keys = await store.keys.for_stream(stream.id)
            print(f"{stream.id}  {stream.title!r}  state={stream.state}")
            print(f"  server:  {rtmp_server_url(config, ports)}")
            if rtmps:
                print(f"  rtmps:   {rtmps}")
            for kind, key in keys.items():
                print(f"  {kind + ':':<8} {key.secret if reveal else key.masked}")
            if reveal and "primary" in keys:
                url = srt_url(config, ports, keys["primary"].secret, stream.srt_passphrase)
                print(f"  srt:     {url}")
            print(f"  player:  {player_url(config, ports, stream.id)}")
            print(f"  hls:     {hls_url(config, ports, stream.id)}")
    finally:
        await store.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
