"""WHEP over HTTP and a real aiortc viewer: status codes, a session that receives decoded
pictures and audio from an RTMP-fed stream, DELETE, and nothing left after many viewers."""

from __future__ import annotations

import asyncio
import gc
import os
import tracemalloc
from pathlib import Path

import av
import pytest

from mediad.realtime.keys import STREAM_HEALTH, VIEWERS
from mediad.webrtc.whep import WHEP_FEEDS
from tests.mediad.webrtc.whep_testing import play, recvonly_client, whep_env, whep_offer
from tests.packager.packager_testing import Source, encode_source

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture(scope="module")
def plain() -> Source:
    return encode_source(seconds=2, b_frames=0)


@pytest.fixture(scope="module")
def b_frames() -> Source:
    return encode_source(seconds=2, b_frames=2)


async def test_status_codes_before_a_session(tmp_path: Path, plain: Source) -> None:
    async with whep_env(tmp_path, plain) as env:
        pc = recvonly_client()
        offer = await whep_offer(pc)
        url = f"/whep/{env.stream_id}"
        r = await env.client.post(url, data=offer, headers=SDP)
        assert r.status == 404  # not live
        r = await env.client.post("/whep/nosuchstream", data=offer, headers=SDP)
        assert r.status == 404
        await env.publish()
        r = await env.client.post(url, data=offer, headers={"Content-Type": "text/plain"})
        assert r.status == 415
        r = await env.client.post(url, data="hello", headers=SDP)
        assert r.status == 400
        no_video = offer.split("m=audio")[0].split("m=video")[0] + "m=audio" + offer.split(
            "m=audio")[1]
        r = await env.client.post(url, data=no_video, headers=SDP)
        assert r.status == 400 and "video" in (await r.json())["error"]
        r = await env.client.options(url)
        assert r.status == 204 and "POST" in r.headers["Allow"]
        r = await env.client.patch(f"{url}/nosession", data="", headers=SDP)
        assert r.status == 404
        r = await env.client.delete(f"{url}/nosession")
        assert r.status == 404
        await pc.close()


async def test_b_frames_without_a_ladder_are_409(tmp_path: Path, b_frames: Source) -> None:
    async with whep_env(tmp_path, b_frames) as env:
        await env.publish()
        pc = recvonly_client()
        r = await env.client.post(f"/whep/{env.stream_id}", data=await whep_offer(pc),
                                  headers=SDP)
        assert r.status == 409
        assert "B-frames" in (await r.json())["error"]
        await pc.close()
        feed = env.client.app[WHEP_FEEDS].feeds[env.stream_id]  # warm while on air
        assert not feed.viewers and not feed.encoding_opus  # the refused viewer left nothing


async def test_a_viewer_receives_pictures_and_audio_then_deletes(tmp_path: Path,
                                                                 plain: Source) -> None:
    async with whep_env(tmp_path, plain) as env:
        await env.publish()
        pc = recvonly_client()
        location, tracks = await play(env.client, env.stream_id, pc)
        assert location.startswith(f"/whep/{env.stream_id}/")
        video = await asyncio.wait_for(tracks["video"].recv(), 15)
        for _ in range(10):
            video = await asyncio.wait_for(tracks["video"].recv(), 10)
        assert isinstance(video, av.VideoFrame)  # decoded by the client
        assert (video.width, video.height) == (plain.video.width, plain.video.height)
        audio = await asyncio.wait_for(tracks["audio"].recv(), 10)
        assert isinstance(audio, av.AudioFrame)
        assert audio.sample_rate == 48000  # Opus, encoded once from the AAC source
        feeds = env.client.app[WHEP_FEEDS]
        assert feeds.health(env.stream_id).viewers == 1
        r = await env.client.patch(location, data="", headers=SDP)
        assert r.status == 405
        r = await env.client.delete(location)
        assert r.status == 200
        feed = feeds.feeds[env.stream_id]  # kept warm for the next viewer while on air ...
        assert not feed.viewers and feed.gop.ready
        assert not feed.encoding_opus  # ... without encoding Opus for nobody
        r = await env.client.delete(location)
        assert r.status == 404
        await pc.close()


async def test_a_first_viewer_joins_on_the_gop_kept_warm(tmp_path: Path, plain: Source) -> None:
    """The feed reads the stream from its publisher's attach, not from the first viewer:
    that viewer starts on the current GOP at once instead of at the next keyframe."""
    async with whep_env(tmp_path, plain) as env:
        await env.publish()
        feeds = env.client.app[WHEP_FEEDS]
        for _ in range(200):  # the feed has no event for its first GOP
            if env.stream_id in feeds.feeds and feeds.feeds[env.stream_id].gop.ready:
                break
            await asyncio.sleep(0.05)
        feed = feeds.feeds[env.stream_id]
        assert not feed.viewers and not feed.encoding_opus
        viewer = feed.add_viewer()
        assert feed.encoding_opus  # the AAC source's Opus, for the one who listens
        first = await asyncio.wait_for(viewer.get("video"), 0.1)  # at once: no keyframe wait
        assert first.keyframe
        feeds.leave(feed, viewer)
        assert not feed.encoding_opus


async def test_health_names_the_webrtc_viewers_counted_with_the_others(
        tmp_path: Path, plain: Source) -> None:
    async with whep_env(tmp_path, plain) as env:
        await env.publish()
        pc = recvonly_client()
        location, tracks = await play(env.client, env.stream_id, pc)
        await asyncio.wait_for(tracks["video"].recv(), 15)
        viewers = env.client.app[VIEWERS]
        for _ in range(100):  # this process's count goes round the bus like any other's
            await viewers.announce()
            if viewers.total(env.stream_id) == 1:
                break
            await asyncio.sleep(0.05)
        health = env.client.app[STREAM_HEALTH]
        await health.sample()  # the baseline
        await asyncio.sleep(0.2)
        await health.sample()
        for _ in range(100):
            latest = health.latest(env.stream_id)
            if latest is not None:
                break
            await asyncio.sleep(0.05)
        assert latest is not None
        assert latest["webrtc"] == {"viewers": 1, "falls": 0, "droppedUnits": 0}
        assert latest["viewers"] == 1  # the WHEP viewer, in the one count
        await env.client.delete(location)
        await pc.close()


async def test_a_viewer_plays_on_across_the_publishers_reconnect(
        tmp_path: Path, plain: Source) -> None:
    """The encoder drops and comes back within the reconnect grace: the WHEP session is the
    same, pictures come again, and their RTP timestamps go on forward (aiortc's sender
    numbers from the feed's clock, which keeps an offset across publishes)."""
    async with whep_env(tmp_path, plain) as env:
        first = await env.publish()
        pc = recvonly_client()
        location, tracks = await play(env.client, env.stream_id, pc)
        for _ in range(5):
            before = await asyncio.wait_for(tracks["video"].recv(), 15)
        await env.stop_feeding()
        first.detach("connection reset by peer")
        live = env.registry.get(env.stream_id)
        assert live is not None and live.state == "reconnecting"
        await asyncio.sleep(0.3)
        await env.publish()
        after = await asyncio.wait_for(tracks["video"].recv(), 15)
        for _ in range(5):
            after = await asyncio.wait_for(tracks["video"].recv(), 10)
        assert isinstance(before, av.VideoFrame) and isinstance(after, av.VideoFrame)
        assert before.pts is not None and after.pts is not None and after.pts > before.pts
        assert env.client.app[WHEP_FEEDS].health(env.stream_id).viewers == 1
        r = await env.client.delete(location)
        assert r.status == 200  # the same session all along
        await pc.close()


async def test_deleting_the_stream_ends_its_viewers_and_its_feed(
        tmp_path: Path, plain: Source) -> None:
    async with whep_env(tmp_path, plain) as env:
        await env.publish()
        pc = recvonly_client()
        location, tracks = await play(env.client, env.stream_id, pc)
        await asyncio.wait_for(tracks["video"].recv(), 15)
        feeds = env.client.app[WHEP_FEEDS]
        feed = feeds.feeds[env.stream_id]
        await env.registry.forget(env.stream_id)
        async with asyncio.timeout(5):
            while not feed.closed:
                await feed.changed()
        assert env.stream_id not in feeds.feeds
        assert (await env.client.delete(location)).status == 404
        late = recvonly_client()
        r = await env.client.post(f"/whep/{env.stream_id}", data=await whep_offer(late),
                                  headers=SDP)
        assert r.status == 404
        await late.close()
        await pc.close()


async def test_the_broadcast_ending_ends_its_viewers(tmp_path: Path, plain: Source) -> None:
    async with whep_env(tmp_path, plain) as env:
        await env.publish()
        pc = recvonly_client()
        location, _ = await play(env.client, env.stream_id, pc)
        feeds = env.client.app[WHEP_FEEDS]
        feed = feeds.feeds[env.stream_id]
        await env.registry.end(env.stream_id)
        async with asyncio.timeout(5):
            while not feed.closed:  # the registry's event reaches the feeds' watcher
                await feed.changed()
        assert not feeds.feeds
        r = await env.client.delete(location)
        assert r.status == 404
        await pc.close()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_fifty_viewers_come_and_go_and_leave_nothing(tmp_path: Path,
                                                           plain: Source) -> None:
    """Sockets (every ICE socket, DTLS) and traced memory are back to the baseline after
    50 join/leave cycles: at most 2 descriptors (a log or a cache opened lazily) and under
    1 MiB of Python allocations above it outside the stream's own media (a session holds
    its GOP of queued media and aiortc's state, so a leak of a few sessions would show)."""
    async with whep_env(tmp_path, plain) as env:
        await env.publish()

        async def cycle() -> None:
            pc = recvonly_client()
            location, tracks = await play(env.client, env.stream_id, pc)
            await asyncio.wait_for(tracks["video"].recv(), 15)
            r = await env.client.delete(location)
            assert r.status == 200
            await pc.close()

        await cycle()  # first use: aiortc's and PyAV's lazy imports, codecs, caches
        gc.collect()
        tracemalloc.start()
        base_fds, base = open_descriptors(), tracemalloc.take_snapshot()
        for _ in range(50):
            await cycle()
        await asyncio.sleep(0.5)  # closes scheduled by the last DELETE
        gc.collect()
        fds, after = open_descriptors(), tracemalloc.take_snapshot()
        tracemalloc.stop()
        assert not env.client.app[WHEP_FEEDS].feeds[env.stream_id].viewers
        assert fds <= base_fds + 2, (base_fds, fds)
        # The stream itself goes on meanwhile: its LL-HLS segments (the DVR window) and
        # the ingest's frames grow and are not the viewers'.
        stream_media = [tracemalloc.Filter(False, f"*{os.sep}{d}{os.sep}*")
                        for d in ("packager", "ingest", "tracemalloc.py")]
        growth = after.filter_traces(stream_media).compare_to(
            base.filter_traces(stream_media), "filename")
        grown = sum(stat.size_diff for stat in growth)
        assert grown < 1 << 20, [str(stat) for stat in growth[:8]]
