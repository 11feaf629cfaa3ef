"""First start: an admin account and a stream with its keys, shown once."""

from __future__ import annotations

from dataclasses import dataclass

from mediad.config import Config
from mediad.passwords import generate_password, hash_password
from mediad.store import Store
from mediad.store.keys import KEY_KINDS
from mediad.urls import (
    Ports,
    hls_url,
    player_url,
    rtmp_server_url,
    rtmps_server_url,
    srt_url,
    whip_url,
)


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    handle: str
    password: str
    stream_id: str
    primary_key: str
    backup_key: str
    srt_passphrase: str


async def bootstrap_if_empty(store: Store, config: Config) -> BootstrapResult | None:
    """Create the admin and a first stream when the store has no user yet."""
    if await store.users.count() > 0:
        return None
    password = generate_password()
    handle = config.auth.admin_handle
    admin = await store.users.create(handle, handle, "admin", hash_password(password))
    stream = await store.streams.create(admin.id, f"{handle}'s stream",
                                        dvr_window_sec=config.hls.dvr_window_sec)
    keys = [await store.keys.issue(stream.id, kind) for kind in KEY_KINDS]
    return BootstrapResult(handle, password, stream.id, keys[0].secret, keys[1].secret,
                           stream.srt_passphrase)


def banner(result: BootstrapResult, config: Config, ports: Ports) -> str:
    """What a streamer needs to go live, printed once on first start (with TLS, the
    RTMPS server too: OBS takes either, and the HTTP URLs are HTTPS)."""
    rtmps = rtmps_server_url(config, ports)
    lines = [
        "",
        "mediad is set up. Shown once: keep these somewhere safe.",
        "",
        "  OBS (Settings > Stream > Service: Custom)",
        f"    Server:        {rtmp_server_url(config, ports)}",
        *([f"    Server (TLS):  {rtmps}"] if rtmps else []),
        f"    Stream key:    {result.primary_key}",
        f"    Backup key:    {result.backup_key}",
        "",
        "  SRT (OBS, vMix, ffmpeg, srt-live-transmit)",
        f"    URL:           {srt_url(config, ports, result.primary_key, result.srt_passphrase)}",
        f"    Passphrase:    {result.srt_passphrase}",
        "",
        *([
            "  WHIP (OBS 30+: Service: WHIP; ffmpeg -f whip)",
            f"    Server URL:    {whip_url(config, ports, result.stream_id)}",
            "    Bearer token:  the stream key above",
            "",
        ] if config.webrtc.enabled else []),
        f"  Player:          {player_url(config, ports, result.stream_id)}",
        f"  HLS playlist:    {hls_url(config, ports, result.stream_id)}",
        f"  Admin sign-in:   {result.handle} / {result.password}",
        "",
        "  Lost them? `mediad streams --reveal` prints the keys again.",
        "",
    ]
    return "\n".join(lines)
