"""WHEP playback (RFC 9725's playback twin): ``POST /whep/{stream}`` with a recvonly offer.

Any live stream, whatever its ingest, through the stream's shared ``WhepFeed``: the viewer
gets pictures that already exist. Status codes: 404 for a stream that is not live (nor
waiting for its publisher to reconnect), 409 when it has no WebRTC-playable video (B-frames
or HEVC/AV1 and no transcoded rung), or none yet within ``PLAYABLE_WAIT_SEC``, 415 for a
body that is not ``application/sdp``, 400 for an offer that cannot receive H.264 video
(when the stream has video) or Opus audio (when it has audio), 429/503 for the session
caps. ``DELETE`` on the ``Location`` ends the session; ``PATCH`` (trickle ICE) is 405.
WHEP viewers count with the LL-HLS ones, keyed the same way (one viewer per browser).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from aiohttp import web
from aiortc import RTCRtpSender, RTCRtpTransceiver

from mediad.http.app import add_service
from mediad.lifecycle import ON_AIR
from mediad.realtime.keys import IDENTITIES, VIEWERS
from mediad.realtime.viewers import viewer_key
from mediad.webrtc.context import WEBRTC
from mediad.webrtc.sdp_http import (
    created,
    ended,
    no_trickle,
    options_response,
    read_offer,
    sdp_error,
)
from mediad.webrtc.sdp_offer import MediaSection, offered_codecs
from mediad.webrtc.whep_feed import WhepFeed
from mediad.webrtc.whep_feeds import WhepFeeds
from mediad.webrtc.whep_session import WhepSession
from mediad.webrtc.whep_tracks import WhepTrack, on_keyframe_request
from mediad.webrtc.whep_viewer_queue import Kind

log = logging.getLogger("mediad.webrtc")

WHEP_FEEDS = web.AppKey("whep_feeds", WhepFeeds)
METHODS = ("POST", "OPTIONS")
SESSION_METHODS = ("DELETE", "OPTIONS")
PLAYABLE_WAIT_SEC: Final = 10.0
"""How long a first viewer's offer waits for the stream's first WebRTC keyframe (a later
viewer joins at once): more than the 8 s GOP of OBS's default."""
CODECS: Final = {"video": "video/H264", "audio": "audio/opus"}


def setup_whep(app: web.Application) -> None:
    """Routes and the feeds service; ``app[WEBRTC]`` is set before."""
    webrtc = app[WEBRTC]
    add_service(app, WHEP_FEEDS, WhepFeeds(webrtc.config.webrtc, webrtc.registry,
                                           webrtc.pipelines, webrtc.sessions))
    app.router.add_post("/whep/{stream}", post_whep)
    app.router.add_route("OPTIONS", "/whep/{stream}", options_whep)
    app.router.add_delete("/whep/{stream}/{session}", delete_whep)
    app.router.add_route("OPTIONS", "/whep/{stream}/{session}", options_session)
    app.router.add_route("PATCH", "/whep/{stream}/{session}", patch_whep)


def check_play_offer(sections: list[MediaSection], video: bool, audio: bool) -> None:
    """400 unless the offer can receive what the stream has: H.264 video, Opus audio."""
    receiving = [s for s in sections if s.kind in ("audio", "video") and s.receives]
    for kind, needed, codec, name in (("video", video, "h264", "H.264"),
                                      ("audio", audio, "opus", "Opus")):
        if not needed:
            continue
        offered = [s for s in receiving if s.kind == kind]
        if not offered:
            sdp_error(400, f"the offer receives no {kind}: the stream has {kind}, which "
                           f"mediad plays over WHEP as {name}")
        if not any(codec in s.codecs for s in offered):
            names = offered_codecs(offered)
            sdp_error(400, f"the offer's {kind} has no {name} (it offers {names}): mediad "
                           f"plays H.264 video and Opus audio over WHEP")


async def wait_playable(feed: WhepFeed, ladder: bool, expects_video: bool,
                        within: float = PLAYABLE_WAIT_SEC) -> None:
    """Returns once ``feed`` can serve a joining viewer; 409 when it cannot (yet)."""
    try:
        async with asyncio.timeout(within):
            while True:
                refusal = feed.refusal(ladder)
                if refusal is not None:
                    sdp_error(409, refusal)
                video = expects_video or feed.has_video
                if feed.video_ready or (not video and feed.has_audio):
                    return
                if feed.closed:
                    sdp_error(404, "this stream is not live")
                await feed.changed()
    except TimeoutError:
        if expects_video or feed.has_video:
            reason = feed.choice.refusal() if feed.choice.wanted is None else (
                "no keyframe of the stream's WebRTC video came in time")
        else:
            reason = "the stream has no media yet"
        sdp_error(409, f"no WebRTC-playable rendition yet: {reason}")


def _add_track(pc_transceiver: RTCRtpTransceiver, track: WhepTrack) -> None:
    kind = track.kind
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs
              if c.mimeType.lower() in (CODECS[kind].lower(), f"{kind}/rtx")]
    pc_transceiver.setCodecPreferences(codecs)


async def post_whep(request: web.Request) -> web.StreamResponse:
    webrtc = request.app[WEBRTC]
    feeds = request.app[WHEP_FEEDS]
    stream_id = request.match_info["stream"]
    offer, sections = await read_offer(request)
    live = webrtc.registry.get(stream_id)
    if live is None or (not live.publishing and live.state not in ON_AIR):
        sdp_error(404, "this stream is not live")
    kinds = {track.kind for track in live.tracks.values()}
    check_play_offer(sections, "video" in kinds, "audio" in kinds)
    address = request.remote or "unknown"
    slot = webrtc.sessions.admit(address)
    feed = feeds.feed(live)
    viewer = feed.add_viewer()
    pc = webrtc.peers.create()
    session = WhepSession(webrtc.sessions.new_id(), stream_id, address, pc, feeds, feed,
                          viewer)
    try:
        await wait_playable(feed, feeds.ladder, "video" in kinds)
        check_play_offer(sections, feed.has_video, feed.has_audio)
        wanted: list[tuple[Kind, bool]] = [("video", feed.has_video),
                                           ("audio", feed.has_audio)]
        for kind, present in wanted:
            if not present:
                continue
            track = WhepTrack(kind, viewer)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            _add_track(transceiver, track)
            session.tracks.append(track)
            if kind == "video":
                on_keyframe_request(transceiver.sender, feed.keyframes.request)
        try:
            answer = await webrtc.peers.answer(pc, offer)
        except ValueError as exc:  # aiortc refuses an SDP it cannot parse or negotiate
            sdp_error(400, f"cannot answer this offer: {exc}")
    except BaseException:
        slot.release()
        await session.close("WHEP offer not answered")
        raise
    webrtc.sessions.add(session, slot)
    _count_viewer(request, session)
    log.info("whep viewer connected", extra={"fields": {
        "stream": stream_id, "peer": address, "session": session.id}})
    return created(answer, f"/whep/{stream_id}/{session.id}", webrtc.peers.ice_servers)


def _count_viewer(request: web.Request, session: WhepSession) -> None:
    """Counted like a chat socket while the session lasts, keyed like an LL-HLS player:
    a tab that switches between WebRTC and LL-HLS is one viewer."""
    viewers = request.app.get(VIEWERS)
    if viewers is None:
        return
    identities = request.app.get(IDENTITIES)
    key = viewer_key(identities.browser(request) if identities else None, request.remote,
                     request.headers.get("User-Agent", ""))
    viewers.socket_opened(session.stream_id, key)
    session.on_close.append(lambda: viewers.socket_closed(session.stream_id, key))


def _session(request: web.Request) -> WhepSession:
    session = request.app[WEBRTC].sessions.get(request.match_info["session"])
    if (not isinstance(session, WhepSession)
            or session.stream_id != request.match_info["stream"]):
        sdp_error(404, "no such WHEP session")
    return session


async def delete_whep(request: web.Request) -> web.Response:
    session = _session(request)
    await request.app[WEBRTC].sessions.close(session.id, "ended by the viewer (DELETE)")
    return ended()


async def patch_whep(request: web.Request) -> web.Response:
    _session(request)
    raise no_trickle(SESSION_METHODS)


async def options_whep(request: web.Request) -> web.Response:
    return options_response(request.app[WEBRTC].peers.ice_servers, METHODS)


async def options_session(request: web.Request) -> web.Response:
    return options_response(request.app[WEBRTC].peers.ice_servers, SESSION_METHODS)
