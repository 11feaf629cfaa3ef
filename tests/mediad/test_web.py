"""The built web app as mediad serves it: pages, hashed assets, gzip, and no build."""

from __future__ import annotations

import gzip
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mediad.http.app import json_errors
from mediad.http.web import setup_web


async def client_for(root: Path) -> TestClient:
    app = web.Application(middlewares=[json_errors])
    setup_web(app, root)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def build(root: Path) -> None:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    script = b"console.log('mediad');" * 50
    (root / "assets" / "index-abc123.js").write_bytes(script)
    (root / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script))


async def test_every_page_is_the_app_and_never_cached_stale(tmp_path: Path) -> None:
    build(tmp_path)
    client = await client_for(tmp_path)
    try:
        for path in ("/", "/watch/abc123", "/replay/0f3a9c", "/studio", "/studio/abc123"):
            response = await client.get(path)
            assert response.status == 200, path
            assert "id=root" in await response.text()
            assert response.headers["Cache-Control"] == "no-cache"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert (await client.get("/watch/a/b")).status == 404
    finally:
        await client.close()


async def test_assets_are_immutable_and_gzipped_when_accepted(tmp_path: Path) -> None:
    build(tmp_path)
    client = await client_for(tmp_path)
    try:
        zipped = await client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"},
                                  auto_decompress=False)
        assert zipped.status == 200 and zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "javascript" in zipped.headers["Content-Type"]
        plain = await client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
        assert plain.status == 200 and "Content-Encoding" not in plain.headers
        assert (await plain.read()).startswith(b"console.log")
        for name in ("index-abc123.js.gz", "missing.js", "..%2Findex.html"):
            response = await client.get(f"/assets/{name}")
            assert response.status == 404 and (await response.json())["error"]
    finally:
        await client.close()


async def test_without_a_build_the_page_says_how_to_get_one(tmp_path: Path) -> None:
    client = await client_for(tmp_path / "nothing")
    try:
        response = await client.get("/watch/abc")
        assert response.status == 503 and "make player" in await response.text()
    finally:
        await client.close()


PUBLIC = Path(__file__).resolve().parents[2] / "player-web" / "public"


async def test_the_icons_are_served_where_browsers_ask(tmp_path: Path) -> None:
    """``/favicon.ico`` is what every browser asks for on every page: the app's icon, not a
    404 (the shipped ones, as the build copies them from player-web/public)."""
    build(tmp_path)
    public = PUBLIC
    for name in ("favicon.ico", "favicon.svg"):
        (tmp_path / name).write_bytes((public / name).read_bytes())
    client = await client_for(tmp_path)
    try:
        ico = await client.get("/favicon.ico")
        assert ico.status == 200 and ico.headers["Content-Type"] == "image/x-icon"
        assert (await ico.read())[:4] == b"\x00\x00\x01\x00"  # an ICO directory
        svg = await client.get("/favicon.svg")
        assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
        assert (await svg.text()).startswith("<svg")
        assert "public" in svg.headers["Cache-Control"]
        assert (await client.get("/favicon.png")).status == 404
    finally:
        await client.close()
    index = (public.parent / "index.html").read_text()
    assert 'rel="icon" href="/favicon.svg"' in index and 'href="/favicon.ico"' in index


async def test_no_built_icon_is_a_404(tmp_path: Path) -> None:
    build(tmp_path)
    client = await client_for(tmp_path)
    try:
        response = await client.get("/favicon.ico")
        assert response.status == 404 and (await response.json())["error"]
    finally:
        await client.close()
