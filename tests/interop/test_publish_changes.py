"""A publish that changes shape, seen from the player's side (issue 15, items 1, 2, 3, 8):
two ffmpeg runs on one key, the second within the reconnect grace, with a different track
set or a lower resolution; an audio-only stream; a ladder rung equal to the source. The
multivariant and media playlists are read with ``m3u8``, each listed rendition's newest
init section and segments decoded by ffprobe/ffmpeg, and hls.js in Chromium plays through
the track-set change and the lower-resolution reconnect.

The rule every change is held to: renditions that still exist continue (new segments, a
discontinuity), renditions that no longer exist end (EXT-X-ENDLIST) and leave the
multivariant playlist, new ones appear and become ready; no listed playlist is frozen.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediad.testing import DaemonProcess
from tests.interop.hls_viewer_testing import (
    Listing,
    Media,
    decode_recent,
    listing,
    next_part_answered,
    probe_url,
    wait_advances,
    wait_listing,
    wait_media,
)
from tests.interop.hlsjs_watch_testing import Watch, now_ms
from tests.interop.shaped_publisher_testing import (
    LadderRung,
    Shape,
    daemon_config,
    publish_shape,
    stop,
)
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

SMALL_LADDER = (LadderRung("120p", 120, 150),)
"""One cheap rung beside the source: enough for an audio group and a transcoded rendition."""
VIDEO_ONLY = Shape((320, 180), audio=False)
AUDIO_ONLY = Shape(None)
BOTH = Shape((320, 180))
RECONNECT_GAP = 1.0
"""Seconds between the first publisher's exit and the second's start: a quick reconnect."""
SEGMENT = 1.0
"""Segment target of the default config (1 s GOPs): the stall a player may see."""


def multivariant_url(daemon: DaemonProcess) -> str:
    return f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"


def has_video(found: Listing) -> bool:
    return any(p.stream_info.resolution or "avc1" in (p.stream_info.codecs or "")
               for p in found.parsed.playlists)


def has_audio(found: Listing) -> bool:
    return bool(found.audio) or any("mp4a" in (p.stream_info.codecs or "")
                                    for p in found.parsed.playlists)


def shows(shape: Shape) -> Callable[[Listing], bool]:
    """A predicate: the listing presents exactly the tracks ``shape`` sends, with every rung
    of ``SMALL_LADDER`` shorter than its picture (a new rendition is listed once it has its
    first segment: the rung a moment after the source)."""
    rungs = {r.name for r in SMALL_LADDER if shape.video is not None and r.height < shape.video[1]}

    def holds(found: Listing) -> bool:
        return (bool(found.parsed.playlists) and has_video(found) == (shape.video is not None)
                and has_audio(found) == shape.audio and rungs <= found.names)
    return holds


def check_presentation(before: Listing, after: Listing, folder: Path) -> None:
    """The rule of issue 15 between the listing of the first publish and the second's."""
    gone = before.names - after.names
    for name in sorted(gone):
        wait_media(before.media_url(name), lambda m: m.ended,
                   f"{name}, no longer listed, ends with EXT-X-ENDLIST")
    if not after.audio:
        assert all(p.stream_info.audio is None for p in after.parsed.playlists), after.text
    for name, url in after.media_urls().items():
        moved = wait_advances(url)
        if name in before.names:
            assert moved.discontinuity, f"{name} continues without a discontinuity:\n{moved.text}"
        next_part_answered(url)
    # Once every rendition has new media, what the multivariant playlist declares of it
    # (picture sizes: a rung of a smaller source is narrower) is what its segments hold.
    settled = listing(after.url)
    assert settled.names == after.names, f"{after.text}\nthen\n{settled.text}"
    for name, variant in settled.variants.items():
        streams = decode_recent(settled.media_url(name), folder).streams
        if variant.stream_info.resolution:
            assert "video" in streams, (name, streams)
            width, height = variant.stream_info.resolution
            assert (streams["video"]["width"], streams["video"]["height"]) == (width, height)
        if "mp4a" in (variant.stream_info.codecs or "") and variant.stream_info.audio is None:
            assert "audio" in streams, (name, streams)  # muxed or audio-only variant
    for name in settled.audio:
        assert "audio" in decode_recent(settled.media_url(name), folder).streams, name


def second_publish_listed(found: Media) -> bool:
    """The first segment after the seam is complete: a player has new media to play."""
    return any(s.discontinuity and s.uri for s in found.parsed.segments)


def reconnect(ffmpeg: str, daemon: DaemonProcess, first: subprocess.Popen[bytes],
              shape: Shape, seconds: float) -> subprocess.Popen[bytes]:
    """Waits for the first publisher to finish, then publishes ``shape`` on the same key. In
    between, the stream is still served (the reconnect grace)."""
    assert first.wait(timeout=60) == 0
    gone = time.monotonic()
    listing(multivariant_url(daemon))
    time.sleep(max(0.0, RECONNECT_GAP - (time.monotonic() - gone)))
    return publish_shape(ffmpeg, daemon.rtmp_url(), shape, seconds)


# -- 1. a reconnect with another set of tracks -----------------------------------------------

@pytest.mark.parametrize(("first_shape", "second_shape"), [
    pytest.param(VIDEO_ONLY, BOTH, id="video-only-then-video-and-audio"),
    pytest.param(BOTH, VIDEO_ONLY, id="video-and-audio-then-video-only"),
    pytest.param(AUDIO_ONLY, BOTH, id="audio-only-then-audio-and-video"),
])
def test_a_reconnect_with_another_track_set(first_shape: Shape, second_shape: Shape,
                                            tmp_path: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    require_tool("ffprobe")
    with DaemonProcess(extra_config=daemon_config(SMALL_LADDER)) as daemon:
        url = multivariant_url(daemon)
        first = publish_shape(ffmpeg, daemon.rtmp_url(), first_shape, 6)
        second = None
        try:
            daemon.wait_for_log("publisher attached")
            before = wait_listing(url, shows(first_shape), "the first publish's presentation")
            for media_url in before.media_urls().values():
                wait_advances(media_url)
            second = reconnect(ffmpeg, daemon, first, second_shape, 30)
            after = wait_listing(url, shows(second_shape),
                                 "the multivariant playlist presenting the second publish",
                                 live=True)
            if second_shape.audio and second_shape.video is not None:
                assert after.audio, f"no audio group beside the video:\n{after.text}"
                assert all(p.stream_info.audio for p in after.parsed.playlists), after.text
            check_presentation(before, after, tmp_path)
            kinds = set(probe_url(url))
            assert kinds == ({"video", "audio"} if second_shape.audio else {"video"}), kinds
        finally:
            stop(first, second)


@dataclass
class Watched:
    """hls.js playing across a reconnect, and the listings either side of it."""

    watch: Watch
    before: Listing
    after: Listing
    dropped: float
    """When the first publisher went away (the player's clock)."""
    resumed: float
    """When the source playlist listed the second publish's first segment."""


def watch_reconnect(tmp_path: Path, ladder: tuple[LadderRung, ...], first_shape: Shape,
                    first_listed: Callable[[Listing], bool], second_shape: Shape,
                    second_listed: Callable[[Listing], bool],
                    check: Callable[[Listing, Listing, Path], None]) -> Watched:
    """hls.js starts on the first publish; the second one follows within the grace; the
    playlists are held to ``check`` while the player plays on."""
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config=daemon_config(ladder)) as daemon:
        url = multivariant_url(daemon)
        first = publish_shape(ffmpeg, daemon.rtmp_url(), first_shape, 8)
        second = None
        watch = Watch(url, 20)
        try:
            daemon.wait_for_log("publisher attached")
            before = wait_listing(url, first_listed, "the first publish's presentation")
            watch.start()
            second = reconnect(ffmpeg, daemon, first, second_shape, 40)
            dropped = now_ms() - RECONNECT_GAP * 1000
            after = wait_listing(url, second_listed, "the second publish's presentation",
                                 live=True)
            wait_media(before.media_url("source"), second_publish_listed,
                       "the second publish's first segment in the source playlist")
            resumed = now_ms()
            check(before, after, tmp_path)
            watch.report(90)
        finally:
            stop(first, second)
            watch.close()
    return Watched(watch, before, after, dropped, resumed)


def assert_played_through(seen: Watched, change: str, may_end: set[str]) -> None:
    """The rendition hls.js played when the publisher dropped goes on, and so does playback:
    no stall longer than a segment once the new media is listed. Or that rendition is one
    of ``may_end``, which ended (ENDLIST, unlisted) while others go on: what a player that
    reloads the multivariant playlist then needs; raw hls.js stops there."""
    watch = seen.watch
    playing = watch.resolution_at(seen.dropped)
    rendition = seen.before.resolutions().get(playing or "")
    stall = watch.stall_after(seen.resumed)
    played = watch.played_after(seen.dropped)
    print(f"\nhls.js, {change}: on {playing} ({rendition}) at the drop; longest stall since "
          f"the drop {watch.stall_after(seen.dropped):.2f} s, after the new media "
          f"{stall:.2f} s; played {played:.2f} s since the drop; non-fatal errors "
          f"{[e['details'] for e in watch.result['errors']]}")
    if rendition in seen.after.names:
        assert stall <= SEGMENT + 0.6, f"stalled {stall:.1f} s once the new media was listed"
        assert played >= 6.0, f"played {played:.1f} s in the {watch.seconds} s after the drop"
    else:
        assert rendition in may_end, (playing, seen.before.resolutions())


def test_hlsjs_plays_through_audio_joining_a_video_only_stream(tmp_path: Path) -> None:
    seen = watch_reconnect(tmp_path, SMALL_LADDER, VIDEO_ONLY, shows(VIDEO_ONLY), BOTH,
                           shows(BOTH), check_presentation)
    assert_played_through(seen, "video-only → video + audio", may_end=set())


# -- 2. a lower-resolution reconnect or takeover ---------------------------------------------

TALL = Shape((640, 360), video_kbps=1000)
SHORT = Shape((426, 240), video_kbps=500)
RUNGS_240_120 = (LadderRung("240p", 240, 600), LadderRung("120p", 120, 150))
"""For a 640x360 source both fit; for a 426x240 one, 240p is as tall as the source (at more
bitrate than it: of no use) and must go, 120p stays."""


def has_the_tall_ladder(found: Listing) -> bool:
    return {"source", "240p", "120p"} <= found.names


def has_the_short_source(found: Listing) -> bool:
    """The source variant is declared at the second publisher's 426x240."""
    source = found.variants.get("source")
    return source is not None and source.stream_info.resolution == (426, 240)


def check_lower_resolution(before: Listing, after: Listing, folder: Path) -> None:
    assert {"source", "240p", "120p"} <= before.names, before.text
    assert "240p" not in after.names, f"a rung as tall as the source is still listed:\n{after.text}"
    assert {"source", "120p"} <= after.names, after.text
    check_presentation(before, after, folder)  # 240p among those that must have ended


@pytest.mark.parametrize("takeover", ["reconnect", "backup"])
def test_a_lower_resolution_publish_retires_the_taller_rungs(takeover: str,
                                                             tmp_path: Path) -> None:
    """``reconnect``: the primary comes back smaller within the grace. ``backup``: the
    backup key publishes while the primary still does, then the primary dies (with hot
    standby the backup takes over then; before it, at once): either way the backup's
    smaller picture is what is served."""
    ffmpeg = require_tool("ffmpeg")
    require_tool("ffprobe")
    with DaemonProcess(extra_config=daemon_config(RUNGS_240_120)) as daemon:
        url = multivariant_url(daemon)
        first = publish_shape(ffmpeg, daemon.rtmp_url(), TALL, 6 if takeover == "reconnect" else 60)
        second = None
        try:
            daemon.wait_for_log("publisher attached")
            before = wait_listing(url, has_the_tall_ladder, "the 640x360 presentation")
            for media_url in before.media_urls().values():
                wait_advances(media_url)
            if takeover == "reconnect":
                second = reconnect(ffmpeg, daemon, first, SHORT, 30)
            else:
                second = publish_shape(ffmpeg, daemon.rtmp_url(daemon.banner.backup_key),
                                       SHORT, 30)
                time.sleep(2.0)
                stop(first)
            after = wait_listing(url, has_the_short_source,
                                 "the source variant at the backup's 426x240", live=True)
            check_lower_resolution(before, after, tmp_path)
        finally:
            stop(first, second)


def test_hlsjs_plays_through_a_lower_resolution_reconnect(tmp_path: Path) -> None:
    seen = watch_reconnect(tmp_path, RUNGS_240_120, TALL, has_the_tall_ladder, SHORT,
                           has_the_short_source, check_lower_resolution)
    assert_played_through(seen, "640x360 → 426x240", may_end={"240p"})


# -- 3. an audio-only stream -----------------------------------------------------------------

@pytest.mark.parametrize("ladder", [SMALL_LADDER, None], ids=["ladder", "passthrough"])
def test_an_audio_only_stream_has_a_variant_players_play(
        ladder: tuple[LadderRung, ...] | None) -> None:
    ffmpeg = require_tool("ffmpeg")
    require_tool("ffprobe")
    with DaemonProcess(extra_config=daemon_config(ladder)) as daemon:
        url = multivariant_url(daemon)
        publisher = publish_shape(ffmpeg, daemon.rtmp_url(), AUDIO_ONLY, 30)
        try:
            daemon.wait_for_log("publisher attached")
            found = wait_listing(url, lambda f: bool(f.parsed.playlists),
                                 "an EXT-X-STREAM-INF variant for the audio-only stream")
            for variant in found.parsed.playlists:
                codecs = (variant.stream_info.codecs or "").split(",")
                assert codecs and all(c.startswith("mp4a.") for c in codecs), found.text
                assert variant.stream_info.resolution is None, found.text
            for media_url in found.media_urls().values():
                wait_advances(media_url)
            assert set(probe_url(url)) == {"audio"}
            decode = subprocess.run(
                [ffmpeg, "-hide_banner", "-v", "error", "-nostdin", "-i", url, "-t", "2",
                 "-f", "null", "-"], capture_output=True, text=True, timeout=60)
            assert decode.returncode == 0, decode.stderr
        finally:
            stop(publisher)


# -- 8. no rung equal to the source ----------------------------------------------------------

@pytest.mark.parametrize(("source_kbps", "rung_kbps", "kept"), [
    pytest.param(800, 1200, False, id="360p-rung-above-the-source-bitrate-is-skipped"),
    pytest.param(2000, 300, True, id="360p-rung-well-below-the-source-bitrate-is-kept"),
])
def test_a_rung_as_tall_as_the_source(source_kbps: int, rung_kbps: int, kept: bool) -> None:
    ffmpeg = require_tool("ffmpeg")
    ladder = (LadderRung("360p", 360, rung_kbps), LadderRung("240p", 240, 400))
    with DaemonProcess(extra_config=daemon_config(ladder)) as daemon:
        url = multivariant_url(daemon)
        publisher = publish_shape(ffmpeg, daemon.rtmp_url(),
                                  Shape((640, 360), audio=True, video_kbps=source_kbps), 30)
        try:
            daemon.wait_for_log("publisher attached")
            found = wait_listing(url, lambda f: {"source", "240p"} <= f.names,
                                 "the source and its 240p rung")
            for media_url in found.media_urls().values():
                wait_advances(media_url)
            time.sleep(2.0)  # whatever the packager learns of the source's bitrate, it knows
            settled = listing(url)
            variants = sorted(settled.variants)
            assert variants == sorted(["source", "240p", *(["360p"] if kept else [])]), \
                settled.text
            heights = [p.stream_info.resolution[1] for p in settled.parsed.playlists]
            assert heights.count(360) == (2 if kept else 1), settled.text
            if kept:
                rung = settled.variants["360p"]
                assert rung.stream_info.bandwidth < settled.variants["source"].stream_info.bandwidth
                next_part_answered(settled.media_url("360p"))
        finally:
            stop(publisher)
