"""The web app (player-web, built into ``mediad/static``): its pages and hashed assets.

Every page route returns the app's ``index.html`` (the app routes in the browser); assets
have content hashes in their names, so they are cached for a year, and served gzipped from
the ``.gz`` files the build writes when the browser accepts it. The icons (``player-web/public``)
keep their names, so browsers that ask for ``/favicon.ico`` on any page get one: cached for
a day, not forever.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = ("/", "/watch/{stream}", "/replay/{recording}", "/studio", "/studio/{stream}")
ICONS = {"favicon.ico": "image/x-icon", "favicon.svg": "image/svg+xml"}
_ASSET = re.compile(r"[A-Za-z0-9._-]{1,200}")
_NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>mediad</title>"
    "<p>The web player is not built. Run <code>make player</code> (it needs Node.js), "
    "or install a mediad wheel, which includes it. The HLS playlist works without it: "
    "<code>/hls/&lt;stream id&gt;/index.m3u8</code>.</p>"
)


def setup_web(app: web.Application, root: Path = STATIC) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        index = root / "index.html"
        if not index.is_file():
            return web.Response(text=_NOT_BUILT, content_type="text/html", status=503)
        return web.FileResponse(index, headers={
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' https: data:; media-src 'self' blob:; "
                "connect-src 'self' ws: wss: https:; worker-src 'self' blob:; "
                "style-src 'self' 'unsafe-inline'; "
                "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
        })

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = root / "assets" / name
        if not _ASSET.fullmatch(name) or name.endswith(".gz") or not path.is_file():
            raise web.HTTPNotFound(reason="no such asset")
        return web.FileResponse(path, headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        })

    async def icon(request: web.Request) -> web.StreamResponse:
        name = request.match_info["icon"]
        path = root / name
        if not path.is_file():
            raise web.HTTPNotFound(reason="the web player is not built")
        return web.FileResponse(path, headers={
            "Content-Type": ICONS[name], "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff"})

    for path in PAGES:
        app.router.add_get(path, page)
    app.router.add_get("/assets/{name}", asset)
    app.router.add_get(r"/{icon:favicon\.(?:ico|svg)}", icon)
