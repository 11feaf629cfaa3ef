"""WHIP's HTTP side with aiohttp's test client, the real daemon app behind it: RFC 9725's
status codes, Location, Link, OPTIONS and DELETE; and a real aiortc publisher whose H.264
and Opus become the stream's tracks and frames, without any decoding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ingest.media import Frame
from mediad.live_stream import LiveStream
from tests.mediad.webrtc.whip_app_testing import WhipApp, accept_answer, publisher_offer, whip_app

Client = TestClient[web.Request, web.Application]

OFFER_VP8_ONLY = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n")
ICE = ('ice_servers = ["stun:stun.example.org:3478", '
       '"turn:alice:s3cret@turn.example.org:3478?transport=udp"]')


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[WhipApp, Client]]:
    async with whip_app(tmp_path, ICE) as app:
        client = Client(TestServer(app.app))
        await client.start_server()
        try:
            yield app, client
        finally:
            await client.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"}


async def test_a_key_is_required_and_must_be_this_streams(env: tuple[WhipApp, Client]) -> None:
    app, client = env
    url = f"/whip/{app.first.stream_id}"
    r = await client.post(url, data=OFFER_VP8_ONLY, headers={"Content-Type": "application/sdp"})
    assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in (await r.json())["error"]
    r = await client.post(url, data=OFFER_VP8_ONLY, headers=bearer("live_not-a-key"))
    assert r.status == 403
    admin = await app.store.users.get_by_handle("admin")
    assert admin is not None
    other = await app.store.streams.create(admin.id, "another", dvr_window_sec=60)
    r = await client.post(f"/whip/{other.id}", data=OFFER_VP8_ONLY,
                          headers=bearer(app.first.primary_key))
    assert r.status == 403 and "not a stream key of this stream" in (await r.json())["error"]


async def test_a_body_that_is_not_an_sdp_offer_is_refused(env: tuple[WhipApp, Client]) -> None:
    app, client = env
    url = f"/whip/{app.first.stream_id}"
    headers = bearer(app.first.primary_key)
    r = await client.post(url, data="v=0", headers={**headers, "Content-Type": "text/plain"})
    assert r.status == 415 and "application/sdp" in (await r.json())["error"]
    r = await client.post(url, data="hello", headers=headers)
    assert r.status == 400 and "v=0" in (await r.json())["error"]
    r = await client.post(url, data=OFFER_VP8_ONLY, headers=headers)
    body = await r.json()
    assert r.status == 400 and "no H.264" in body["error"] and "vp8" in body["error"]
    r = await client.post(url, data="v=0\r\n" + "a=x\r\n" * 20000, headers=headers)
    assert r.status == 413
    assert app.webrtc.sessions.count("whip") == 0


async def test_options_name_the_methods_and_the_ice_servers(env: tuple[WhipApp, Client]) -> None:
    app, client = env
    r = await client.options(f"/whip/{app.first.stream_id}")
    assert r.status == 204 and "POST" in r.headers["Allow"]
    links = r.headers.getall("Link")
    assert '<stun:stun.example.org:3478>; rel="ice-server"' in links
    assert ('<turn:turn.example.org:3478?transport=udp>; rel="ice-server"; username="alice"; '
            'credential="s3cret"; credential-type="password"') in links
    assert r.headers["Access-Control-Expose-Headers"] == "Location, Link"


async def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_an_aiortc_publisher_feeds_the_stream_then_delete_ends_it(
        env: tuple[WhipApp, Client]) -> None:
    app, client = env
    pc = await publisher_offer()
    try:
        r = await client.post(f"/whip/{app.first.stream_id}", data=pc.localDescription.sdp,
                              headers=bearer(app.first.primary_key))
        assert r.status == 201, await r.text()
        assert r.content_type == "application/sdp"
        location = r.headers["Location"]
        assert location.startswith(f"/whip/{app.first.stream_id}/")
        assert len(r.headers.getall("Link")) == 2
        answer = await r.text()
        hosts = [line.split()[4] for line in answer.splitlines()
                 if line.startswith("a=candidate:")]
        assert set(hosts) == {"127.0.0.1"}  # the configured bind address, never 0.0.0.0
        await accept_answer(pc, answer)
        live = app.registry.get(app.first.stream_id)
        assert isinstance(live, LiveStream)
        reader = live.add_reader("test", 2000)
        await wait_for(lambda: {t.codec for t in live.tracks.values()} == {"h264", "opus"})
        video = next(t for t in live.tracks.values() if t.kind == "video")
        assert (video.width, video.height) == (320, 240)
        await wait_for(lambda: reader.pending() > 60)
        frames = [reader.get_nowait() for _ in range(reader.pending())]
        assert live.state == "live"
        # Again with the same key while it publishes: busy.
        second = await publisher_offer()
        r = await client.post(f"/whip/{app.first.stream_id}", data=second.localDescription.sdp,
                              headers=bearer(app.first.primary_key))
        assert r.status == 409
        await second.close()
        r = await client.delete(location)
        assert r.status == 200
        assert app.webrtc.sessions.count("whip") == 0
        assert live.publisher is None
        assert live.state in ("reconnecting",)
        r = await client.delete(location)
        assert r.status == 404
    finally:
        await pc.close()
    video_frames = [f for f in frames if isinstance(f, Frame) and f.is_video]
    assert video_frames[0].keyframe, "the publish starts at a keyframe"
    assert all(f.pts == f.dts for f in video_frames)
    stamps = [f.dts for f in video_frames]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


async def test_a_whip_backup_takes_over_from_a_primary_that_drops(
        env: tuple[WhipApp, Client]) -> None:
    """WHIP on the backup key is the hot standby of an RTMP primary like any other backup:
    held warm, then on air the moment the primary goes."""
    app, client = env
    primary = await app.registry.start_publish(protocol="rtmp", key=app.first.primary_key,
                                               peer="obs", disconnect=lambda dropped: None)
    live = app.registry.get(app.first.stream_id)
    assert isinstance(live, LiveStream)
    pc = await publisher_offer()
    try:
        r = await client.post(f"/whip/{app.first.stream_id}", data=pc.localDescription.sdp,
                              headers=bearer(app.first.backup_key))
        assert r.status == 201, await r.text()
        await accept_answer(pc, await r.text())
        backup = live.standby
        assert backup is not None and backup.protocol == "whip" and backup.kind == "backup"
        await wait_for(lambda: backup.warm.ready)  # its GOP kept from a keyframe
        primary.detach("connection reset")
        assert live.publisher is backup and live.state == "live"
        reader = live.add_reader("after takeover", 500)
        await wait_for(lambda: reader.pending() > 10)
    finally:
        await pc.close()


async def test_a_whip_publisher_that_vanishes_without_delete_ends_its_publish(
        env: tuple[WhipApp, Client]) -> None:
    """The encoder's peer connection closes (a crash, a network gone) and no DELETE comes:
    the session ends with it, the publisher detaches, the stream waits as reconnecting."""
    app, client = env
    pc = await publisher_offer()
    r = await client.post(f"/whip/{app.first.stream_id}", data=pc.localDescription.sdp,
                          headers=bearer(app.first.primary_key))
    assert r.status == 201
    await accept_answer(pc, await r.text())
    live = app.registry.get(app.first.stream_id)
    assert isinstance(live, LiveStream)
    await wait_for(lambda: live.publisher is not None and live.publisher.frames > 10)
    await pc.close()  # DTLS close_notify, no HTTP
    await wait_for(lambda: app.webrtc.sessions.count("whip") == 0)
    assert live.publisher is None
    assert live.state in ("reconnecting",)
