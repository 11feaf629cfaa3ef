"""WHIP ingest (RFC 9725): ``POST /whip/{stream}`` with the stream key as the Bearer token.

The key is checked, the publisher admitted by the registry (the same keys, primary/backup
roles, takeover and lifecycle as RTMP and SRT), then the offer answered; the session lives at
its ``Location`` until ``DELETE``, an ICE/DTLS failure, or the registry letting it go.

Status codes: 401 without a token, 403 for a key that is not this stream's, 409 while the
stream already has a live publisher on that key, 415 for a body that is not
``application/sdp``, 400 for an offer without H.264 video or Opus audio to send, 429/503 for
the session caps.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ingest.sink import PublishRefused
from mediad.webrtc.context import WEBRTC, WebRtcContext
from mediad.webrtc.sdp_http import (
    created,
    ended,
    no_trickle,
    options_response,
    read_offer,
    sdp_error,
)
from mediad.webrtc.sdp_offer import MediaSection, offered_codecs
from mediad.webrtc.whip_session import WhipSession

log = logging.getLogger("mediad.webrtc")

METHODS = ("POST", "OPTIONS")
SESSION_METHODS = ("DELETE", "OPTIONS")
VIDEO_CODECS = frozenset({"h264"})
AUDIO_CODECS = frozenset({"opus"})


def setup_whip(app: web.Application) -> None:
    app.router.add_post("/whip/{stream}", post_whip)
    app.router.add_route("OPTIONS", "/whip/{stream}", options_whip)
    app.router.add_delete("/whip/{stream}/{session}", delete_whip)
    app.router.add_route("OPTIONS", "/whip/{stream}/{session}", options_session)
    app.router.add_route("PATCH", "/whip/{stream}/{session}", patch_whip)


def check_publish_offer(sections: list[MediaSection]) -> None:
    """400 unless the offer sends H.264 video or Opus audio, and nothing we would have to
    refuse (a video section without H.264, an audio one without Opus)."""
    sending = [s for s in sections if s.kind in ("audio", "video") and s.sends]
    if not sending:
        sdp_error(400, "the offer sends no audio or video")
    for kind in ("audio", "video"):
        if sum(1 for s in sending if s.kind == kind) > 1:
            sdp_error(400, f"the offer sends more than one {kind} track: a WHIP publish is "
                           f"one video and one audio track")
    for section in sending:
        wanted = VIDEO_CODECS if section.kind == "video" else AUDIO_CODECS
        if not section.codecs & wanted:
            names = offered_codecs([section])
            need = "H.264" if section.kind == "video" else "Opus"
            sdp_error(400, f"the offer's {section.kind} has no {need} (it offers {names}): "
                           f"mediad takes H.264 video and Opus audio over WHIP")


def _key(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise web.HTTPUnauthorized(
            reason="WHIP needs the stream key as a Bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="whip"'})
    return header[7:].strip()


async def post_whip(request: web.Request) -> web.StreamResponse:
    webrtc = request.app[WEBRTC]
    stream_id = request.match_info["stream"]
    key = _key(request)
    offer, sections = await read_offer(request)
    found = await webrtc.store.keys.find(key)
    if found is None or found.stream_id != stream_id:
        sdp_error(403, "this is not a stream key of this stream")
    check_publish_offer(sections)
    address = request.remote or "unknown"
    slot = webrtc.sessions.admit(address)
    pc = webrtc.peers.create()
    session = WhipSession(webrtc.sessions.new_id(), stream_id, address, pc,
                          segment_sec=webrtc.config.hls.segment_duration_ms / 1000,
                          close_soon=webrtc.sessions.close_soon,
                          expects_video=any(s.kind == "video" and s.sends for s in sections))
    try:
        try:
            publisher = await webrtc.registry.start_publish(
                protocol="whip", key=key, peer=address, disconnect=session.dropped)
        except PublishRefused as refused:
            status = {"bad_key": 403, "busy": 409}.get(refused.reason, 503)
            sdp_error(status, refused.description)
        session.attach(publisher)
        try:
            answer = await webrtc.peers.answer(pc, offer)
        except ValueError as exc:  # aiortc refuses an SDP it cannot parse or negotiate
            await session.close(f"offer refused: {exc}")
            sdp_error(400, f"cannot answer this offer: {exc}")
    except BaseException:
        slot.release()
        if not session.closed:
            await session.close("WHIP offer not answered")
        raise
    webrtc.sessions.add(session, slot)
    log.info("whip publisher connected", extra={"fields": {
        "stream": stream_id, "peer": address, "session": session.id, "key": found.kind}})
    return created(answer, f"/whip/{stream_id}/{session.id}", webrtc.peers.ice_servers)


def _session(webrtc: WebRtcContext, request: web.Request) -> WhipSession:
    session = webrtc.sessions.get(request.match_info["session"])
    if (not isinstance(session, WhipSession)
            or session.stream_id != request.match_info["stream"]):
        sdp_error(404, "no such WHIP session")
    return session


async def delete_whip(request: web.Request) -> web.Response:
    webrtc = request.app[WEBRTC]
    session = _session(webrtc, request)
    await webrtc.sessions.close(session.id, "ended by the publisher (DELETE)")
    return ended()


async def patch_whip(request: web.Request) -> web.Response:
    _session(request.app[WEBRTC], request)
    raise no_trickle(SESSION_METHODS)


async def options_whip(request: web.Request) -> web.Response:
    return options_response(request.app[WEBRTC].peers.ice_servers, METHODS)


async def options_session(request: web.Request) -> web.Response:
    return options_response(request.app[WEBRTC].peers.ice_servers, SESSION_METHODS)
