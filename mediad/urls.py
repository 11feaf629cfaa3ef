"""The addresses a streamer and a viewer are given, built from the configuration."""

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


def _host(config: Config) -> str:
    host = config.server.public_host
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def rtmp_server_url(config: Config, ports: Ports) -> str:
    return f"rtmp://{_host(config)}:{ports.rtmp}/{config.rtmp.app}"


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
    return f"http://{_host(config)}:{ports.http}/watch/{stream_id}"


def hls_url(config: Config, ports: Ports, stream_id: str) -> str:
    """The LL-HLS multivariant playlist, for any HLS player (Safari, VLC, ffplay, hls.js)."""
    return f"http://{_host(config)}:{ports.http}/hls/{stream_id}/index.m3u8"


def whip_url(config: Config, ports: Ports, stream_id: str) -> str:
    """WHIP ingest (OBS 30+: Service "WHIP", Server = this URL, Bearer Token = the key)."""
    return f"http://{_host(config)}:{ports.http}/whip/{stream_id}"


def whep_url(config: Config, ports: Ports, stream_id: str) -> str:
    """WHEP playback: a browser POSTs its SDP offer here (the watch page's Real-time mode)."""
    return f"http://{_host(config)}:{ports.http}/whep/{stream_id}"
