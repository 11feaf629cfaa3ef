"""How accounts, streams, keys and settings look at the API (camelCase, ISO 8601 UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediad.clock import iso_utc
from mediad.config import Config
from mediad.lifecycle import ON_AIR
from mediad.recording.model import Recording
from mediad.store.keys import KeyKind, StreamKey
from mediad.store.streams import Stream
from mediad.store.users import User
from mediad.urls import (
    Ports,
    hls_url,
    player_url,
    rtmp_server_url,
    rtmps_server_url,
    srt_server_url,
    srt_stream_id,
    srt_url,
    whep_url,
    whip_url,
)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "handle": user.handle, "displayName": user.display_name,
            "role": user.role, "createdAt": iso_utc(user.created_at)}


def stream_card(stream: Stream, owner: User | None, viewers: int, picture: bool
                ) -> dict[str, Any]:
    """What discovery shows of a stream, to anyone; ``picture``: its live thumbnail has one."""
    return {
        "id": stream.id,
        "title": stream.title,
        "posterUrl": stream.poster_url,
        "state": stream.state,
        "creator": {"handle": owner.handle if owner else "",
                    "displayName": owner.display_name if owner else ""},
        "viewers": viewers if stream.state in ON_AIR else 0,
        "startAt": _iso(stream.start_at),
        "endedAt": _iso(stream.ended_at),
        "ageRestricted": stream.age_restricted,
        "thumbnailUrl": thumbnail_url(stream, picture),
    }


def thumbnail_url(stream: Stream, picture: bool) -> str | None:
    """The live poster, made from the latest keyframe: only while there is a picture (a page
    that loads one before the first segment is complete shows a broken image, and its
    browser logs the 404)."""
    return f"/thumbs/{stream.id}.jpg" if stream.state in ON_AIR and picture else None


def public_settings(stream: Stream) -> dict[str, Any]:
    """The settings a viewer's player and chat act on (broadcast as ``stream.settings``)."""
    return {"dvrWindowSec": stream.dvr_window_sec, "ageRestricted": stream.age_restricted,
            "slowModeSec": stream.slow_mode_sec, "guestsMayChat": stream.guests_may_chat,
            "realtimePlayback": stream.realtime_playback}


def settings_view(stream: Stream, config: Config) -> dict[str, Any]:
    """``record`` as it applies now (the server's default until the creator chose)."""
    return {**public_settings(stream), "watermark": stream.watermark,
            "blockedWords": list(stream.blocked_words),
            "record": stream.records(config.recording.enabled),
            "recordKeepDays": stream.record_keep_days,
            "replaysPublic": stream.replays_public}


def recording_view(recording: Recording) -> dict[str, Any]:
    """A broadcast recording or a clip: what it holds and where it plays (the VOD routes)."""
    renditions = [*recording.video_renditions()]
    audio = recording.audio_rendition()
    if audio is not None:
        renditions.append(audio)
    base = f"/vod/{recording.id}"
    return {
        "id": recording.id,
        "streamId": recording.stream_id,
        "kind": recording.kind,
        "title": recording.title,
        "state": recording.state,
        "interrupted": recording.interrupted,
        "startedAt": iso_utc(recording.started_at),
        "endedAt": _iso(recording.ended_at),
        "durationSec": round(recording.duration, 3),
        "sizeBytes": recording.size,
        "renditions": [{"name": r.name, "width": 0 if r.audio else r.width,
                        "height": 0 if r.audio else r.height, "codecs": r.codecs,
                        "bandwidth": r.peak_bps} for r in renditions],
        "posterUrl": f"{base}/poster.jpg",
        "playbackUrl": f"{base}/index.m3u8",
        "downloadUrl": f"{base}/download.mp4",
        "createdBy": recording.created_by,
    }


def stream_detail(stream: Stream, owner: User | None, viewers: int, picture: bool,
                  config: Config, ports: Ports) -> dict[str, Any]:
    """``whepUrl`` only where the daemon serves WHEP: the player offers Real-time with it."""
    detail = {**stream_card(stream, owner, viewers, picture), **public_settings(stream),
              "createdAt": iso_utc(stream.created_at), "updatedAt": iso_utc(stream.updated_at),
              "hlsUrl": hls_url(config, ports, stream.id),
              "playerUrl": player_url(config, ports, stream.id),
              "clipMaxSec": config.clips.max_sec}
    if config.webrtc.enabled:
        detail["whepUrl"] = whep_url(config, ports, stream.id)
    return detail


def masked_passphrase(passphrase: str) -> str:
    return "•" * 8 if passphrase else ""


def keys_view(stream: Stream, keys: Mapping[KeyKind, StreamKey], config: Config,
              ports: Ports) -> dict[str, Any]:
    """Masked: what the control room shows until the creator asks to reveal one. The WHIP
    URL is there only where the daemon serves WHIP, the RTMPS server only with TLS."""
    view: dict[str, Any] = {
        "keys": [{"kind": key.kind, "masked": key.masked, "createdAt": iso_utc(key.created_at),
                  "srtStreamId": srt_stream_id(config, key.masked)}
                 for key in keys.values()],
        "rtmpServer": rtmp_server_url(config, ports),
        "srtServer": srt_server_url(config, ports),
        "srtPassphrase": masked_passphrase(stream.srt_passphrase),
        "srtEncrypted": bool(stream.srt_passphrase),
    }
    rtmps = rtmps_server_url(config, ports)
    if rtmps is not None:
        view["rtmpsServer"] = rtmps
    if config.webrtc.enabled:
        view["whipUrl"] = whip_url(config, ports, stream.id)
    return view


def revealed_key(stream: Stream, key: StreamKey, config: Config, ports: Ports
                 ) -> dict[str, Any]:
    """With the WHIP URL and token (the key itself: OBS's "Bearer Token") where WHIP is on."""
    server = rtmp_server_url(config, ports)
    revealed: dict[str, Any] = {
        "kind": key.kind,
        "key": key.secret,
        "createdAt": iso_utc(key.created_at),
        "rtmpServer": server,
        "rtmpUrl": f"{server}/{key.secret}",
        "srtUrl": srt_url(config, ports, key.secret, stream.srt_passphrase),
        "srtStreamId": srt_stream_id(config, key.secret),
        "srtPassphrase": stream.srt_passphrase,
    }
    rtmps = rtmps_server_url(config, ports)
    if rtmps is not None:
        revealed["rtmpsServer"] = rtmps
        revealed["rtmpsUrl"] = f"{rtmps}/{key.secret}"
    if config.webrtc.enabled:
        revealed["whipUrl"] = whip_url(config, ports, stream.id)
        revealed["whipToken"] = key.secret
    return revealed
