"""The addresses a streamer and a viewer are given, built from the configuration. With TLS
(``server.tls_cert``) the HTTP port speaks HTTPS only, so every HTTP URL is ``https://``, and
RTMPS listens beside plain RTMP (an encoder chooses)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from mediad.config import Config


@dataclass(frozen=True, slots=True)
class Ports:
    """Ports actually bound (a configured 0 becomes the port the OS chose)."""

    http: int
    rtmp: int
    srt: int
    rtmps: int = 0
    """The RTMPS port (``rtmp.tls_port`` or the one chosen for 0); 0: no RTMPS."""


def _host(config: Config) -> str:
    host = config.server.public_host
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _http(config: Config, ports: Ports) -> str:
    scheme = "https" if config.server.tls else "http"
    return f"{scheme}://{_host(config)}:{ports.http}"


def rtmp_server_url(config: Config, ports: Ports) -> str:
    return f"rtmp://{_host(config)}:{ports.rtmp}/{config.rtmp.app}"


def rtmps_server_url(config: Config, ports: Ports) -> str | None:
    """RTMP over TLS (OBS: Server ``rtmps://HOST:PORT/APP``); None where it does not listen."""
    if not (config.server.tls and config.rtmp.enabled):
        return None
    return f"rtmps://{_host(config)}:{ports.rtmps or config.rtmp.tls_port}/{config.rtmp.app}"


def srt_server_url(config: Config, ports: Ports) -> str:
    return f"srt://{_host(config)}:{ports.srt}"


def srt_stream_id(config: Config, key: str) -> str:
    """The stream id of a publish (access-control syntax), for an encoder's own field."""
    return f"#!::r={config.srt_app}/{key},m=publish"


def srt_url(config: Config, ports: Ports, key: str, passphrase: str) -> str:
    """The whole caller URL: OBS's Server field, ffmpeg's output, srt-live-transmit's target.
    The stream id is percent-encoded, so no URL parser takes its ``#`` for a fragment (ffmpeg
    and OBS decode it, the listener decodes what srt-live-transmit passes through as is).
    ``pbkeylen=16`` (AES-128, libsrt's default) states the key length beside the passphrase;
    the listener accepts 16, 24 or 32."""
    streamid = quote(srt_stream_id(config, key), safe="")
    url = f"{srt_server_url(config, ports)}?streamid={streamid}"
    if passphrase:
        url += f"&passphrase={quote(passphrase, safe='')}&pbkeylen=16"
    return url


def player_url(config: Config, ports: Ports, stream_id: str) -> str:
    return f"{_http(config, ports)}/watch/{stream_id}"


def hls_url(config: Config, ports: Ports, stream_id: str) -> str:
    """The LL-HLS multivariant playlist, for any HLS player (Safari, VLC, ffplay, hls.js)."""
    return f"{_http(config, ports)}/hls/{stream_id}/index.m3u8"


def whip_url(config: Config, ports: Ports, stream_id: str) -> str:
    """WHIP ingest (OBS 30+: Service "WHIP", Server = this URL, Bearer Token = the key)."""
    return f"{_http(config, ports)}/whip/{stream_id}"


def whep_url(config: Config, ports: Ports, stream_id: str) -> str:
    """WHEP playback: a browser POSTs its SDP offer here (the watch page's Real-time mode)."""
    return f"{_http(config, ports)}/whep/{stream_id}"
