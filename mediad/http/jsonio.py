"""JSON in and out of the HTTP API: bounded object bodies, uncached replies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from mediad import bounded_json

MAX_BODY_BYTES = 16 * 1024


def reply(body: Any, status: int = 200) -> web.Response:
    """A JSON reply that no cache keeps (the API answers per user)."""
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"},
                             dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def read_object(request: web.Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object body; 413 past ``limit``, 400 for anything not an object
    (nested past ``bounded_json.MAX_DEPTH`` included)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(limit, request.content_length)
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(limit, len(raw))
    try:
        body = bounded_json.loads(raw)
    except bounded_json.TooDeep as exc:
        raise web.HTTPBadRequest(reason=f"the body is {exc}") from None
    except ValueError:  # UnicodeDecodeError included
        raise web.HTTPBadRequest(reason="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return body


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``low..high``; 400 naming it otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18) or not low <= int(raw) <= high:
        raise web.HTTPBadRequest(reason=f"'{name}' must be an integer from {low} to {high}")
    return int(raw)
