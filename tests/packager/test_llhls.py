"""The LL-HLS playlist model: a table of playlists built through the model's API, rendered,
read back by the ``m3u8`` parser (a reader we did not write) and compared fact by fact;
the blocking rules as a decision table; waiting as one wake-up for every waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import m3u8
import pytest

from packager.llhls import (
    Decision,
    MediaPlaylist,
    PlaylistSettings,
    decide,
    format_date,
    parse_directives,
)

T0 = 1_790_000_000.0  # a wall clock in 2026
SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=120)


def feed(playlist: MediaPlaylist, segments: int, parts: int = 5, *, open_parts: int = 0,
         start: float = T0) -> None:
    """Complete segments of ``parts`` parts of 0.2 s, then ``open_parts`` of the next."""
    if not playlist.inits:
        playlist.set_init(b"init-a")
    t = start
    for _ in range(segments):
        for index in range(parts):
            playlist.add_part(b"p" * 10, 0.2, independent=index == 0, program_date_time=t)
        playlist.finish_segment()
        t += 0.2 * parts
    for index in range(open_parts):
        playlist.add_part(b"p" * 10, 0.2, independent=index == 0, program_date_time=t)


@dataclass
class Facts:
    """What a player reads from a media playlist."""

    version: int
    target_duration: int
    media_sequence: int
    discontinuity_sequence: int
    segments: list[tuple[str, float, bool, str | None]]
    """(URI, EXTINF, discontinuity, map URI) of every complete segment listed."""
    parts: list[tuple[str, float, bool]]
    program_dates: list[str]
    hint: str | None
    skipped: int
    reports: list[tuple[str, int, int]]
    endlist: bool
    part_target: float
    part_hold_back: float
    can_skip_until: float
    can_block_reload: bool
    extra: dict[str, Any] = field(default_factory=dict)


def read(text: bytes) -> Facts:
    """The facts of a rendering, as the m3u8 library parses them."""
    parsed = m3u8.loads(text.decode())
    listed = [s for s in parsed.segments if s.uri]
    all_parts = [p for s in parsed.segments for p in s.parts]
    # The parser keeps the open segment's date on its first part.
    dated = [s.program_date_time or (s.parts[0].program_date_time if s.parts else None)
             for s in parsed.segments]
    dates = [format_date(d.timestamp()) for d in dated if d is not None]
    control = parsed.server_control
    return Facts(
        version=int(parsed.version),
        target_duration=int(parsed.target_duration),
        media_sequence=parsed.media_sequence,
        discontinuity_sequence=parsed.discontinuity_sequence or 0,
        segments=[(s.uri, round(s.duration, 5), bool(s.discontinuity),
                   s.init_section.uri if s.init_section else None) for s in listed],
        parts=[(p.uri, round(p.duration, 5), p.independent == "YES") for p in all_parts],
        program_dates=dates,
        hint=parsed.preload_hint.uri if parsed.preload_hint else None,
        skipped=parsed.skip.skipped_segments if parsed.skip else 0,
        reports=[(r.uri, r.last_msn, r.last_part) for r in parsed.rendition_reports],
        endlist=parsed.is_endlist,
        part_target=parsed.part_inf.part_target,
        part_hold_back=control.part_hold_back,
        can_skip_until=control.can_skip_until,
        can_block_reload=control.can_block_reload == "YES",
    )


def model_facts(playlist: MediaPlaylist, skip: bool = False) -> Facts:
    """The same facts, from the model's own state (what the rendering must say)."""
    td = playlist.target_duration
    segments = list(playlist.segments)
    skipped = 0
    if skip and not playlist.ended:
        end = sum(s.duration for s in segments if s.complete)
        done = 0.0
        for s in segments:
            if not s.complete or end - done - s.duration <= 6 * td:
                break
            done += s.duration
            skipped += 1
    shown = segments[skipped:]
    inits: list[str | None] = []
    previous = None
    for s in shown:
        inits.append(f"init{s.init}.mp4" if s.init != previous else inits[-1])
        previous = s.init
    part_from = playlist._part_lines_from()
    hint = playlist.hint()
    return Facts(
        version=9 if skipped else 6,
        target_duration=td,
        media_sequence=playlist.first_msn,
        discontinuity_sequence=playlist.discontinuity_sequence,
        segments=[(s.uri, round(s.duration, 5), s.discontinuity, init)
                  for s, init in zip(shown, inits, strict=True) if s.complete],
        parts=[(p.uri, round(p.duration, 5), p.independent) for s in shown
               if s.msn >= part_from for p in s.parts],
        program_dates=[format_date(s.program_date_time) for s in shown],
        hint=None if hint is None else f"seg{hint[0]}.{hint[1]}.m4s",
        skipped=skipped,
        reports=[(uri, *p.rendition_report()) for uri, p in playlist.siblings],
        endlist=playlist.ended,
        part_target=round(SETTINGS.part_limit, 3),
        part_hold_back=round(3 * SETTINGS.part_limit, 3),
        can_skip_until=6.0 * td,
        can_block_reload=True,
    )


def _two_segments_and_open_parts(p: MediaPlaylist) -> None:
    feed(p, 2, open_parts=3)


def _segment_just_closed(p: MediaPlaylist) -> None:
    feed(p, 3)


def _reconnect(p: MediaPlaylist) -> None:
    feed(p, 2)
    p.mark_discontinuity()
    feed(p, 2, open_parts=1, start=T0 + 60)


def _codec_change(p: MediaPlaylist) -> None:
    feed(p, 2)
    p.set_init(b"init-b")
    feed(p, 1, open_parts=2, start=T0 + 2)


def _window_slides(p: MediaPlaylist) -> None:
    feed(p, 2)
    p.mark_discontinuity()
    feed(p, 10, open_parts=1, start=T0 + 30)


def _ended(p: MediaPlaylist) -> None:
    feed(p, 2, open_parts=2)
    p.end()


def _long_for_delta(p: MediaPlaylist) -> None:
    feed(p, 20, open_parts=2)


def _with_sibling(p: MediaPlaylist) -> None:
    sibling = MediaPlaylist(SETTINGS)
    feed(sibling, 2, open_parts=4)
    p.set_siblings([("../720p/index.m3u8", sibling)])
    feed(p, 2, open_parts=3)


CASES: dict[str, tuple[Callable[[MediaPlaylist], None], PlaylistSettings, bool]] = {
    "two segments and open parts": (_two_segments_and_open_parts, SETTINGS, False),
    "segment just closed": (_segment_just_closed, SETTINGS, False),
    "publisher reconnected": (_reconnect, SETTINGS, False),
    "codec parameters changed": (_codec_change, SETTINGS, False),
    "dvr window slides over a discontinuity": (
        _window_slides, PlaylistSettings(0.2, 1.0, dvr_window=4), False),
    "ended": (_ended, SETTINGS, False),
    "delta update": (_long_for_delta, SETTINGS, True),
    "delta update of a short playlist skips nothing": (_two_segments_and_open_parts, SETTINGS,
                                                      True),
    "rendition report": (_with_sibling, SETTINGS, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rendering_reads_back_as_the_same_facts(name: str) -> None:
    build, settings, skip = CASES[name]
    playlist = MediaPlaylist(settings)
    build(playlist)
    text = playlist.render(skip=skip).text
    assert read(text) == model_facts(playlist, skip)


def test_table_cases_say_what_they_claim() -> None:
    """The cases above exercise what they are named for, in the parser's own words."""
    def facts(name: str) -> Facts:
        build, settings, skip = CASES[name]
        playlist = MediaPlaylist(settings)
        build(playlist)
        return read(playlist.render(skip=skip).text)

    opened = facts("two segments and open parts")
    assert opened.media_sequence == 1  # hls.js before PR #8013 stalls on MSN 0
    assert [s[0] for s in opened.segments] == ["seg1.m4s", "seg2.m4s"]
    assert opened.parts[-3:] == [("seg3.0.m4s", 0.2, True), ("seg3.1.m4s", 0.2, False),
                                 ("seg3.2.m4s", 0.2, False)]
    assert opened.hint == "seg3.3.m4s"
    assert opened.program_dates[0] == "2026-09-21T14:13:20.000Z"
    assert opened.part_hold_back >= 3 * opened.part_target - 1e-9
    assert opened.can_skip_until >= 6 * opened.target_duration

    assert facts("segment just closed").hint == "seg4.0.m4s"
    reconnect = facts("publisher reconnected")
    assert [s[2] for s in reconnect.segments] == [False, False, True, False]
    changed = facts("codec parameters changed")
    assert [s[3] for s in changed.segments] == ["init1.mp4", "init1.mp4", "init2.mp4"]
    assert changed.segments[2][2], "a new init section is a discontinuity"
    slid = facts("dvr window slides over a discontinuity")
    assert slid.media_sequence > 3 and slid.discontinuity_sequence == 1
    ended = facts("ended")
    assert ended.endlist and ended.hint is None and ended.segments[-1][0] == "seg3.m4s"
    delta = facts("delta update")
    assert delta.skipped > 0 and delta.version == 9
    assert delta.media_sequence + delta.skipped == int(delta.segments[0][0][3:-4])
    assert facts("delta update of a short playlist skips nothing").skipped == 0
    assert facts("rendition report").reports == [("../720p/index.m3u8", 3, 3)]


def test_old_parts_leave_the_playlist_but_stay_servable() -> None:
    playlist = MediaPlaylist(SETTINGS)
    feed(playlist, 10, open_parts=1)
    listed = {p[0] for p in read(playlist.render().text).parts}
    assert "seg1.0.m4s" not in listed and "seg9.0.m4s" in listed
    part = playlist.part(1, 0)
    assert part is not None and bytes(part.data) == b"p" * 10
    segment = playlist.segment(1)
    assert segment is not None and segment.data == b"p" * 50


def test_target_duration_fits_the_longest_first_segment() -> None:
    playlist = MediaPlaylist(SETTINGS)
    playlist.set_init(b"i")
    for index in range(9):  # a 1.8 s GOP with a 1 s segment target
        playlist.add_part(b"x", 0.2, independent=index == 0, program_date_time=T0)
    assert not playlist.ready
    playlist.finish_segment()
    assert playlist.ready and playlist.target_duration == 2


def test_dvr_window_bounds_memory() -> None:
    playlist = MediaPlaylist(PlaylistSettings(0.2, 1.0, dvr_window=10))
    feed(playlist, 200)
    total = sum(s.duration for s in playlist.segments)
    assert 10 <= total <= 11 and playlist.first_msn == 191
    assert playlist._bytes == sum(s.size for s in playlist.segments)
    capped = MediaPlaylist(PlaylistSettings(0.2, 1.0, dvr_window=120, max_bytes=500))
    feed(capped, 50)
    assert capped._bytes <= 500 + 50  # the cap, give or take the segment that crossed it


def test_date_format_is_iso_utc_with_milliseconds() -> None:
    moment = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC).timestamp()
    assert format_date(moment) == "2026-05-01T12:00:00.123Z"


# -- blocking reload: a decision table -------------------------------------------------------

def _state(segments: int, open_parts: int) -> MediaPlaylist:
    playlist = MediaPlaylist(SETTINGS)
    feed(playlist, segments, open_parts=open_parts)
    return playlist


ENDED = MediaPlaylist(SETTINGS)
feed(ENDED, 2)
ENDED.end()

# (segments complete, parts of the open one) -> last part is (segments + 1, open_parts - 1)
DECISIONS = [
    # state, _HLS_msn, _HLS_part, decision
    ((3, 2), None, None, Decision.NOW),
    ((3, 2), None, 1, Decision.BAD),  # part without msn: MUST 400
    ((3, 2), 4, 1, Decision.NOW),  # the newest part
    ((3, 2), 4, 0, Decision.NOW),
    ((3, 2), 2, 3, Decision.NOW),  # an old part
    ((3, 2), 1, None, Decision.NOW),
    ((3, 2), 3, None, Decision.NOW),  # segment 3 is complete
    ((3, 2), 4, None, Decision.WAIT),  # segment 4 is still open
    ((3, 2), 4, 2, Decision.WAIT),  # the hinted part
    ((3, 2), 4, 3, Decision.WAIT),
    ((3, 2), 5, 0, Decision.WAIT),
    ((3, 2), 6, None, Decision.WAIT),  # last + 2: still allowed
    ((3, 2), 7, None, Decision.BAD),  # more than 2 segments ahead
    ((3, 2), 5, 14, Decision.BAD),  # beyond the advance part limit (15 parts = 3 s)
    ((3, 0), 3, 5, Decision.WAIT),  # past the final part of a closed parent: part 0 of the next
    ((3, 1), 3, 5, Decision.NOW),  # ... which exists now
    ((3, 1), 3, 4, Decision.NOW),
]


@pytest.mark.parametrize(("state", "msn", "part", "expected"), DECISIONS)
def test_blocking_decision_table(state: tuple[int, int], msn: int | None, part: int | None,
                                 expected: Decision) -> None:
    assert decide(_state(*state), msn, part) is expected


def test_ended_playlist_ignores_directives() -> None:
    assert decide(ENDED, 99, 3) is Decision.NOW
    assert decide(ENDED, None, 3) is Decision.NOW


@pytest.mark.parametrize(("query", "expected"), [
    ([], (None, None, False)),
    ([("_HLS_msn", "12"), ("_HLS_part", "3")], (12, 3, False)),
    ([("_HLS_skip", "YES"), ("_HLS_msn", "4"), ("token", "x")], (4, None, True)),
    ([("_HLS_skip", "v2")], (None, None, True)),
])
def test_directives_parse(query: list[tuple[str, str]],
                          expected: tuple[int | None, int | None, bool]) -> None:
    assert parse_directives(query) == expected


@pytest.mark.parametrize("query", [
    [("_HLS_msn", "-1")], [("_HLS_msn", "1.5")], [("_HLS_part", "x")],
    [("_HLS_msn", "9" * 30)], [("_HLS_skip", "NO")], [("_HLS_msn", "١٢")],
])
def test_malformed_directives_are_refused(query: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError):
        parse_directives(query)


# -- waiting ---------------------------------------------------------------------------------

async def test_one_publication_wakes_every_waiter() -> None:
    playlist = _state(2, 1)
    waiters = [asyncio.ensure_future(playlist.wait_until(lambda: playlist.has(3, 1), 5))
               for _ in range(2000)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    playlist.add_part(b"x", 0.2, independent=False, program_date_time=T0)
    results = await asyncio.wait_for(asyncio.gather(*waiters), 1)
    assert all(results)


async def test_waiter_times_out_without_disturbing_others() -> None:
    playlist = _state(2, 1)
    short = asyncio.ensure_future(playlist.wait_until(lambda: playlist.has(3, 1), 0.05))
    long = asyncio.ensure_future(playlist.wait_until(lambda: playlist.has(3, 1), 5))
    assert await short is False
    playlist.add_part(b"x", 0.2, independent=False, program_date_time=T0)
    assert await asyncio.wait_for(long, 1) is True


async def test_waiters_for_later_parts_keep_waiting() -> None:
    playlist = _state(2, 1)
    later = asyncio.ensure_future(playlist.wait_until(lambda: playlist.has(3, 2), 5))
    playlist.add_part(b"x", 0.2, independent=False, program_date_time=T0)
    await asyncio.sleep(0.01)
    assert not later.done()
    playlist.end()  # the end answers everybody
    assert await asyncio.wait_for(later, 1) is True


def test_rendering_is_shared_until_a_change() -> None:
    playlist = _state(2, 1)
    first = playlist.render()
    assert playlist.render() is first
    assert first.gzipped is first.gzipped
    playlist.add_part(b"x", 0.2, independent=False, program_date_time=T0)
    assert playlist.render() is not first


# -- what the rendition set asks of a playlist ------------------------------------------------

async def test_a_shared_target_duration_waits_to_be_settled() -> None:
    playlist = MediaPlaylist(SETTINGS, shared_target_duration=True)
    feed(playlist, 1)
    assert playlist.proposed_target_duration == 1 and not playlist.ready
    waiter = asyncio.ensure_future(playlist.wait_until(lambda: playlist.ready, 5))
    await asyncio.sleep(0)
    playlist.settle_target_duration(2)
    assert await asyncio.wait_for(waiter, 1) is True, "settling wakes the waiters"
    assert read(playlist.render().text).target_duration == 2
    playlist.settle_target_duration(2)  # the same value again: nothing changes
    with pytest.raises(RuntimeError, match="never change"):
        playlist.settle_target_duration(3)


def test_a_target_duration_shorter_than_a_segment_is_refused() -> None:
    playlist = MediaPlaylist(SETTINGS, shared_target_duration=True)
    playlist.set_init(b"i")
    for index in range(9):  # 1.8 s: asks for 2
        playlist.add_part(b"x", 0.2, independent=index == 0, program_date_time=T0)
    playlist.finish_segment()
    with pytest.raises(ValueError, match="shorter"):
        playlist.settle_target_duration(1)
    assert not playlist.ready


def test_own_target_duration_is_fixed_by_the_first_segment() -> None:
    playlist = MediaPlaylist(SETTINGS)
    feed(playlist, 1)
    assert playlist.ready and playlist.target_duration == 1


def test_new_siblings_are_reported_at_once() -> None:
    playlist, first, second = (MediaPlaylist(SETTINGS) for _ in range(3))
    for sibling in (first, second):  # fed alike: the same versions, which key renderings
        feed(sibling, 1, open_parts=1)
    assert first.version == second.version
    feed(playlist, 1)
    playlist.set_siblings([("../a/index.m3u8", first)])
    assert read(playlist.render().text).reports == [("../a/index.m3u8", 2, 0)]
    playlist.set_siblings([("../b/index.m3u8", second)])
    assert playlist.siblings == (("../b/index.m3u8", second),)
    assert read(playlist.render().text).reports == [("../b/index.m3u8", 2, 0)]
