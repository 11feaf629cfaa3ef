"""Typed configuration: embedded defaults, an optional TOML file, then ``MEDIAD_*`` overrides.

Every field below is documented, with its default, in ``conf/mediad.toml``. A bad file is
refused at start with a ``ConfigError`` that names the key and what is wrong; the CLI turns
it into exit code 2 without a traceback. Unknown keys are reported as warnings (a typo must
not silently fall back to a default without the operator hearing about it).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.rtmp.config import RtmpServerConfig
from ingest.srt.config import SrtServerConfig

ENV_PREFIX = "MEDIAD_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, float | None]:
    return {"min": lo, "max": hi}


def _check_networks(key: str, entries: tuple[str, ...]) -> None:
    for entry in entries:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"{key}: {entry!r} is not an address or a network (CIDR)"
                              ) from None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "0.0.0.0"
    """Bind address of every listener (HTTP, RTMP, SRT)."""
    http_port: int = field(default=8080, metadata=_range(0, 65535))
    """HTTP port: player, API, LL-HLS and WebSockets. 0 picks a free port."""
    public_host: str = "localhost"
    """Host name printed in the OBS, SRT and player URLs."""
    log_format: Literal["human", "json"] = "human"
    """``human`` for a terminal, ``json`` for one JSON object a line (log shippers)."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    shutdown_timeout_sec: float = field(default=10.0, metadata=_range(0, 300))
    """How long a graceful shutdown waits for in-flight requests before closing them."""
    header_timeout_sec: float = field(default=10.0, metadata=_range(0.1, 600))
    """An HTTP request whose headers are not complete this long after its first byte is
    answered 408 and closed (slow-header clients)."""
    idle_timeout_sec: float = field(default=60.0, metadata=_range(0.1, 3600))
    """An HTTP connection with no request for this long (before its first, between
    keep-alive requests) is closed."""
    max_connections_per_address: int = field(default=256, metadata=_range(0, 1_000_000))
    """Open HTTP connections from one address; more are closed at once. 0: no cap (behind a
    reverse proxy every viewer comes from its address)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or CIDR networks of the caching edges and reverse proxies in front of
    mediad: a request from one speaks for the client its ``X-Forwarded-For`` names (per-
    address limits and sign-in throttling apply to that client), and its own connections
    are exempt from ``max_connections_per_address``."""
    descriptor_reserve: int = field(default=256, metadata=_range(16, 1_000_000))
    """File descriptors kept for ingest, the store and ``/healthz``: once fewer than this are
    left under ``RLIMIT_NOFILE``, a new HTTP connection is served ``/healthz`` only."""
    cap_log_interval_sec: float = field(default=10.0, metadata=_range(0.1, 3600))
    """A connection cap (HTTP or RTMP) that is hit is logged at once, then once this
    interval per cap with the count."""
    tls_cert: str = ""
    """PEM certificate chain: with ``tls_key``, the HTTP port speaks HTTPS (and WSS) only,
    and RTMPS listens on ``rtmp.tls_port``. Both files are read again on SIGHUP."""
    tls_key: str = ""
    """PEM private key of ``tls_cert``."""

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)

    def __post_init__(self) -> None:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("server.tls_cert and server.tls_key: give both or neither")
        _check_networks("server.trusted_proxies", self.trusted_proxies)


@dataclass(frozen=True, slots=True)
class StreamsConfig:
    auto_live: bool = True
    """A stream goes live as soon as its publisher connects; false: it waits in preview
    until the creator goes live from the control room."""
    max_ingest_kbps: int = field(default=12_000, metadata=_range(0, 1_000_000))
    """A publisher sending more than 10 % above this is advised (control room, health
    channel) to lower its bitrate; advice only, nothing is refused. 0: no limit."""
    failover_after_ms: int = field(default=1000, metadata=_range(100, 60_000))
    """A publisher that sends no media this long is stalled: the standby (the other key's
    publisher) takes over, and a new connection on its key replaces it."""
    prefer_primary: bool = True
    """A primary-key publisher that (re)connects while the backup feeds the stream takes
    over at its first keyframe; false: it waits as the standby until the backup fails."""
    media_timeout_sec: float = field(default=10.0, metadata=_range(1, 3600))
    """A publisher that sends no media frames this long (keepalives do not count) is
    dropped like a disconnect."""
    reconnect_grace_sec: float = field(default=30.0, metadata=_range(0, 3600))
    """A live stream whose publisher left is ``reconnecting`` this long: a publisher coming
    back continues it (players see a discontinuity), else it ends. Formerly
    ``hls.reconnect_grace_sec``, still read (with a warning) when ``streams`` has none."""


@dataclass(frozen=True, slots=True)
class RtmpConfig(RtmpServerConfig):
    """The RTMP listener's own settings (``ingest/rtmp/config.py``), and whether it runs."""

    enabled: bool = True
    tls_port: int = field(default=1936, metadata=_range(0, 65535))
    """RTMPS (``rtmps://HOST:PORT/APP``) listens here when ``server.tls_cert`` is set, beside
    plain RTMP on ``port``. 0 picks a free port."""


@dataclass(frozen=True, slots=True)
class SrtConfig(SrtServerConfig):
    """The SRT listener's own settings (``ingest/srt/config.py``), and whether it runs."""

    enabled: bool = True
    app: str = ""
    """The application a stream id may name (``#!::r=APP/KEY``); empty: ``rtmp.app``, so one
    name serves both listeners (``Config.srt_app``)."""


@dataclass(frozen=True, slots=True)
class HlsConfig:
    part_duration_ms: int = field(default=200, metadata=_range(50, 2000))
    segment_duration_ms: int = field(default=1000, metadata=_range(500, 10000))
    """Target segment length; segments are cut at the first keyframe past it."""
    dvr_window_sec: int = field(default=120, metadata=_range(0, 7200))
    """Default DVR window of a new stream (each stream may change its own)."""
    block_timeout_sec: float = field(default=6.0, metadata=_range(1, 30))
    """A blocking playlist or part request held longer than this gets a 503."""
    ended_retention_sec: float = field(default=60.0, metadata=_range(0, 86400))
    """An ended stream's playlists and media stay this long after EXT-X-ENDLIST (players
    finish what they buffered), then leave memory; a deleted stream's go at once."""


@dataclass(frozen=True, slots=True)
class LadderRung:
    name: str
    height: int = field(metadata=_range(90, 4320))
    bitrate_kbps: int = field(metadata=_range(64, 100_000))
    fps_max: int = field(default=30, metadata=_range(1, 120))
    preset: str = "veryfast"


def _default_ladder() -> tuple[LadderRung, ...]:
    return (
        LadderRung("720p", 720, 2800),
        LadderRung("480p", 480, 1200),
        LadderRung("360p", 360, 700),
    )


@dataclass(frozen=True, slots=True)
class TranscodeConfig:
    enabled: bool = True
    """Off: serve the source only (passthrough rung)."""
    encoder: str = "libx264"
    """Video encoder: libx264, h264_nvenc, h264_vaapi or h264_qsv."""
    audio_bitrate_kbps: int = field(default=128, metadata=_range(32, 512))
    ladder: tuple[LadderRung, ...] = field(default_factory=_default_ladder)
    """Rungs beside the source passthrough; rungs taller than the source are skipped."""


@dataclass(frozen=True, slots=True)
class WebRtcConfig:
    enabled: bool = True
    """WHIP ingest (``POST /whip/{stream}``) and WHEP playback (``POST /whep/{stream}``)."""
    public_ips: tuple[str, ...] = ()
    """Addresses offered to peers as extra host candidates, at the ports bound locally: the
    public address of a server behind 1:1 NAT (forward ``udp_port_min``..``udp_port_max``
    to it). Empty: only the machine's own addresses are offered."""
    bind_addresses: tuple[str, ...] = ()
    """Local addresses ICE binds (one UDP socket each per session). Empty: every address
    of every interface except loopback, as aioice does; list ``127.0.0.1`` to allow
    peers on this machine only."""
    udp_port_min: int = field(default=0, metadata=_range(0, 65535))
    udp_port_max: int = field(default=0, metadata=_range(0, 65535))
    """The UDP ports sessions bind, one per session and address (both 0: any free port).
    aiortc has no single muxed port: open the whole range in a firewall."""
    ice_servers: tuple[str, ...] = ()
    """STUN/TURN servers offered to clients in ``Link: rel="ice-server"`` headers and used
    by the server's own ICE agent: ``stun:host:port`` or ``turn:user:password@host:port``."""
    max_sessions: int = field(default=500, metadata=_range(1, 100_000))
    """WHIP and WHEP sessions open at once in this process; more are refused with 503."""
    max_sessions_per_address: int = field(default=20, metadata=_range(1, 100_000))
    """WHEP/WHIP sessions from one address; more are refused with 429."""
    viewer_queue_frames: int = field(default=120, metadata=_range(8, 10_000))
    """Frames queued for one WHEP viewer before it drops to the next keyframe."""
    session_setup_timeout_sec: float = field(default=15.0, metadata=_range(1, 300))
    """A session whose ICE and DTLS have not connected this long after its offer ends."""


@dataclass(frozen=True, slots=True)
class ChatConfig:
    max_message_length: int = field(default=500, metadata=_range(1, 5000))
    history: int = field(default=50, metadata=_range(0, 1000))
    """Messages sent to a viewer when they join."""
    messages_per_minute: int = field(default=20, metadata=_range(1, 100_000))
    """Per-chatter send limit (an account, or a guest's cookie)."""
    messages_per_minute_per_ip: int = field(default=60, metadata=_range(1, 1_000_000))
    """Per-IP send limit over every chatter behind that address."""
    blocked_words: tuple[str, ...] = ()
    """Refused in every stream's chat (each stream adds its own list)."""
    link_min_account_age_hours: float = field(default=24.0, metadata=_range(0, 24 * 365))
    """Links are refused from guests and from accounts younger than this."""


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    bus: Literal["memory", "redis"] = "memory"
    """``memory``: one process. ``redis``: several mediad processes sharing one data
    directory fan chat, tips and health out through Redis pub/sub."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "mediad"
    """Channel name prefix, so several deployments can share one Redis."""
    flush_interval_ms: int = field(default=50, metadata=_range(0, 1000))
    """Messages to a socket are sent at most this often, several to a frame (0: at once)."""
    max_frames_per_sec: int = field(default=25_000, metadata=_range(1000, 10_000_000))
    """Socket writes per second one stream may cause in this process: a large audience gets
    fewer, fuller frames (the interval grows to audience / this), which keeps a busy chat
    deliverable to thousands of viewers instead of drowning the machine in syscalls."""
    outbound_queue_frames: int = field(default=256, metadata=_range(4, 100_000))
    """Frames queued for one slow socket before it is disconnected."""
    outbound_buffer_bytes: int = field(default=256 * 1024, metadata=_range(4096, 64 << 20))
    """Unsent bytes in a socket's kernel-side buffer before frames queue up."""
    health_interval_sec: float = field(default=5.0, metadata=_range(0.5, 60))
    health_retention_days: int = field(default=30, metadata=_range(1, 3650))
    """Health samples (the control room chart, analytics) are kept this long."""
    event_retention_hours: int = field(default=24, metadata=_range(1, 24 * 365))
    """How far back a reconnecting client can resume from its cursor."""


@dataclass(frozen=True, slots=True)
class TipsConfig:
    webhook_secret: str = ""
    """Shared secret of ``POST /api/webhooks/tips`` (HMAC-SHA256); empty: webhook off."""
    max_age_sec: int = field(default=300, metadata=_range(10, 3600))
    """Signed requests older than this (or as far in the future) are refused as replays."""


@dataclass(frozen=True, slots=True)
class StorageConfig:
    data_dir: str = "./var"
    """Directory of the SQLite database and generated secrets (relative to the working dir)."""

    @property
    def database_path(self) -> Path:
        return Path(self.data_dir) / "mediad.sqlite3"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    jwt_secret: str = ""
    """HS256 secret; empty: generated once and kept in ``DATA_DIR/jwt.secret``."""
    access_token_ttl_sec: int = field(default=900, metadata=_range(60, 86400))
    refresh_token_ttl_sec: int = field(default=14 * 86400, metadata=_range(300, 365 * 86400))
    admin_handle: str = "admin"
    """Handle of the admin account created on first start."""
    login_attempts_per_minute_per_ip: int = field(default=10, metadata=_range(1, 10_000))
    login_attempts_per_hour_per_account: int = field(default=20, metadata=_range(1, 10_000))
    """Failed sign-ins before ``429 Retry-After``: per address, and per account from the
    addresses that failed at it (an address that has not failed is never held up by
    others' guesses: ``mediad/login_throttle.py``)."""
    secure_cookies: bool = False
    """Mark the sign-in cookies ``Secure`` (turn on when a proxy in front gives browsers
    HTTPS); requests that arrive over HTTPS, as all do with ``server.tls_cert``, get them
    anyway."""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    writes_per_minute_per_user: int = field(default=120, metadata=_range(1, 100_000))
    """Creator-side changes (streams, keys, settings) per account, before ``429``."""
    metrics_per_minute_per_ip: int = field(default=30, metadata=_range(1, 100_000))
    """Player reports (``POST /api/streams/{id}/metrics``) per address."""
    discovery_ended_hours: int = field(default=48, metadata=_range(0, 24 * 365))
    """Ended streams stay in public discovery this long."""
    metrics_retention_days: int = field(default=30, metadata=_range(1, 3650))


@dataclass(frozen=True, slots=True)
class RecordingConfig:
    enabled: bool = True
    """Whether a stream records its broadcasts when its own ``record`` setting was never
    set (a creator turns it on or off per stream)."""
    dir: str = ""
    """Where recordings and clips are written; empty: ``DATA_DIR/recordings``."""
    renditions: tuple[str, ...] = ()
    """Renditions recorded (names from ``transcode.ladder``, ``source``, ``audio``); empty:
    the source and the audio."""
    keep_days: int = field(default=30, metadata=_range(0, 36500))
    """Broadcast recordings older than this are deleted (0: kept until deleted); a stream
    may set its own. Clips are kept until deleted."""
    max_gb: float = field(default=0.0, metadata=_range(0, 1_000_000))
    """Past this many GB of recordings and clips, the oldest broadcast recordings are
    deleted (0: no limit)."""
    queue_mb: int = field(default=64, metadata=_range(1, 65536))
    """Segments waiting for the disk; past it, a recording skips segments (counted in its
    health) rather than hold up ingest or viewers."""

    def directory(self, data_dir: str) -> Path:
        return Path(self.dir) if self.dir else Path(data_dir) / "recordings"


@dataclass(frozen=True, slots=True)
class ClipsConfig:
    max_sec: int = field(default=60, metadata=_range(1, 3600))
    """The longest clip a viewer may cut from a live stream's DVR window."""
    per_user_per_hour: int = field(default=20, metadata=_range(1, 100_000))
    """Clips one account may make per hour, across streams, before ``429``."""


@dataclass(frozen=True, slots=True)
class ThumbnailsConfig:
    interval_sec: float = field(default=10.0, metadata=_range(1, 3600))
    """A live stream's poster is made again at most this often, and only when asked for."""
    width: int = field(default=640, metadata=_range(64, 3840))
    """Posters are scaled down to this width (never up)."""


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    enabled: bool = True
    """``GET /metrics`` in the Prometheus text format."""
    token: str = ""
    """A scraper sending ``Authorization: Bearer TOKEN`` may read the metrics from any
    address; empty: only the addresses of ``allow`` may."""
    allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    """Addresses or CIDR networks that may read the metrics without the token (the
    connection's own address: ``X-Forwarded-For`` is never believed here)."""
    port: int = field(default=0, metadata=_range(0, 65535))
    """Serve the metrics on this port of ``host`` only, not on the HTTP port; 0: on the HTTP
    port."""
    host: str = "127.0.0.1"
    """Bind address of the ``port`` listener."""

    def __post_init__(self) -> None:
        _check_networks("metrics.allow", self.allow)


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    streams: StreamsConfig = field(default_factory=StreamsConfig)
    rtmp: RtmpConfig = field(default_factory=RtmpConfig)
    srt: SrtConfig = field(default_factory=SrtConfig)
    hls: HlsConfig = field(default_factory=HlsConfig)
    transcode: TranscodeConfig = field(default_factory=TranscodeConfig)
    webrtc: WebRtcConfig = field(default_factory=WebRtcConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    realtime: RealtimeConfig = field(default_factory=RealtimeConfig)
    tips: TipsConfig = field(default_factory=TipsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    clips: ClipsConfig = field(default_factory=ClipsConfig)
    thumbnails: ThumbnailsConfig = field(default_factory=ThumbnailsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    @property
    def srt_app(self) -> str:
        """The application SRT stream ids name: ``srt.app``, or ``rtmp.app`` when unset."""
        return self.srt.app or self.rtmp.app


def load_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    warnings: list[str] | None = None,
) -> Config:
    """Build the configuration; unknown keys are appended to ``warnings``."""
    raw: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"{where}: file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    env = os.environ if environ is None else environ
    _apply_env(raw, env)
    sink: list[str] = [] if warnings is None else warnings
    _rename_deprecated(raw, where, sink)
    return _build(Config, raw, "", where, sink)


_DEPRECATED: dict[tuple[str, str], tuple[str, str]] = {
    ("hls", "reconnect_grace_sec"): ("streams", "reconnect_grace_sec"),
}
"""Keys that moved: (old section, key) -> (new section, key)."""


def _rename_deprecated(raw: dict[str, Any], where: str, warnings: list[str]) -> None:
    """A moved key is read under its new name (which wins when both are given)."""
    for (old_section, old_key), (new_section, new_key) in _DEPRECATED.items():
        old = raw.get(old_section)
        if not isinstance(old, dict) or old_key not in old:
            continue
        value = old.pop(old_key)
        from_env = old_key in old.get("__env__", set())
        old.get("__env__", set()).discard(old_key)
        new = raw.setdefault(new_section, {})
        if not isinstance(new, dict):
            continue  # _build reports the section that is not a table
        warnings.append(f"{where}: {old_section}.{old_key} is deprecated: use "
                        f"{new_section}.{new_key}")
        if new_key not in new:
            new[new_key] = value
            if from_env:
                new.setdefault("__env__", set()).add(new_key)


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """``MEDIAD_SECTION_KEY=value`` overrides ``[section] key``; values are TOML literals
    where they parse as such (numbers, booleans, arrays) and plain strings otherwise."""
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        if section is None:
            continue
        key = rest[len(section) + 1 :]
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        table[key] = value
        table.setdefault("__env__", set()).add(key)


def _env_value(value: str, tp: Any) -> Any:
    if tp is str:
        return value
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


_T = typing.TypeVar("_T")


def _build(cls: type[_T], raw: Any, prefix: str, where: str, warnings: list[str]) -> _T:
    label = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {label}: expected a table, got {_describe(raw)}")
    raw = dict(raw)
    from_env: set[str] = raw.pop("__env__", set())
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.metadata.get("config") is False:
            continue  # set by the daemon from another key, never read from the file
        key = prefix + f.name
        if f.name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: {key}: missing (required)")
            continue
        value, origin = raw.pop(f.name), where
        if f.name in from_env:
            value = _env_value(value, hints[f.name])
            origin = f"environment {ENV_PREFIX}{key.replace('.', '_').upper()}"
        kwargs[f.name] = _convert(hints[f.name], value, key, origin, warnings)
        _check_range(f, kwargs[f.name], key, origin)
    for unknown in raw:
        warnings.append(f"{where}: {prefix}{unknown}: unknown key, ignored")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, key: str, where: str, warnings: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key + ".", where, warnings)  # type: ignore[arg-type]
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{where}: {key}: must be one of {allowed}, got {value!r}")
        return value
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key}: expected an array, got {_describe(value)}")
        return tuple(
            _convert(item_type, item, f"{key}[{i}]", where, warnings)
            for i, item in enumerate(value)
        )
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported config type for {key}")  # pragma: no cover
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key}: expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key}: expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {_describe(value)}")
        return value
    raise TypeError(f"unsupported config type {tp!r} for {key}")  # pragma: no cover


def _check_range(f: dataclasses.Field[Any], value: Any, key: str, where: str) -> None:
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None and value < lo:
        raise ConfigError(f"{where}: {key}: must be at least {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"{where}: {key}: must be at most {hi:g}, got {value!r}")


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, dict | list) else kind
