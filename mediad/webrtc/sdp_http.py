"""The HTTP side of WHIP and WHEP (RFC 9725): reading the offer, answering 201 with the
session's ``Location`` and the ICE servers as ``Link`` headers, OPTIONS, and errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from aiohttp import web

from mediad.webrtc.ice_servers import IceServer
from mediad.webrtc.sdp_offer import MAX_OFFER_BYTES, MediaSection, OfferError
from mediad.webrtc.sdp_offer import read_offer as parse_offer

SDP = "application/sdp"


def sdp_error(status: int, reason: str) -> NoReturn:
    """A JSON ``{"error": reason}`` reply with ``status`` (the app's error middleware)."""
    raise _exception(status, reason)


def _exception(status: int, reason: str) -> web.HTTPException:
    classes: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
        409: web.HTTPConflict, 413: web.HTTPRequestEntityTooLarge,
        415: web.HTTPUnsupportedMediaType, 429: web.HTTPTooManyRequests,
        503: web.HTTPServiceUnavailable,
    }
    cls = classes.get(status, web.HTTPBadRequest)
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(MAX_OFFER_BYTES, MAX_OFFER_BYTES + 1, reason=reason)
    return cls(reason=reason)


async def read_offer(request: web.Request) -> tuple[str, list[MediaSection]]:
    """The offer's text and media sections: 415 for a body that is not ``application/sdp``,
    413 past ``MAX_OFFER_BYTES``, 400 with the reason for one that is not an SDP offer."""
    if request.content_type != SDP:
        sdp_error(415, f"the offer must be {SDP}, not {request.content_type or 'nothing'}")
    if request.content_length is not None and request.content_length > MAX_OFFER_BYTES:
        sdp_error(413, f"an offer is at most {MAX_OFFER_BYTES} bytes")
    raw = await request.content.read(MAX_OFFER_BYTES + 1)
    if len(raw) > MAX_OFFER_BYTES:
        sdp_error(413, f"an offer is at most {MAX_OFFER_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        return text, parse_offer(text)
    except UnicodeDecodeError:
        sdp_error(400, "the offer is not UTF-8 text")
    except OfferError as exc:
        sdp_error(400, str(exc))


def _links(servers: Sequence[IceServer]) -> list[tuple[str, str]]:
    return [("Link", server.link()) for server in servers]


CORS_HEADERS = {
    # A WHIP/WHEP client on another origin (a browser publisher, an embedded player) must
    # read the answer's Location and Link headers (RFC 9725 section 4.8).
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, Link",
}


def cors(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(CORS_HEADERS)
    return response


def created(answer: str, location: str, servers: Sequence[IceServer]) -> web.Response:
    """201 with the answer: what RFC 9725 section 4.2 asks of a WHIP/WHEP endpoint."""
    response = web.Response(status=201, text=answer, content_type=SDP)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    for name, value in _links(servers):
        response.headers.add(name, value)
    cors(response)
    return response


def no_trickle(methods: Sequence[str]) -> web.HTTPMethodNotAllowed:
    """What a session's PATCH gets: RFC 9725 makes trickle ICE and ICE restarts optional,
    and aiortc has neither."""
    return web.HTTPMethodNotAllowed(
        "PATCH", list(methods),
        reason="trickle ICE and ICE restarts are not supported: send every candidate in the "
               "offer")


def ended() -> web.Response:
    """A session's DELETE done."""
    return web.Response(status=200, headers=dict(CORS_HEADERS))


def options_response(servers: Sequence[IceServer], methods: Sequence[str]) -> web.Response:
    """OPTIONS: the methods, and the ICE servers for a client that asks before its offer
    (RFC 9725 section 4.4). CORS preflights are answered the same way by aiohttp's router."""
    response = web.Response(status=204)
    response.headers["Allow"] = ", ".join(methods)
    response.headers["Accept-Post"] = SDP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    for name, value in _links(servers):
        response.headers.add(name, value)
    cors(response)
    return response
