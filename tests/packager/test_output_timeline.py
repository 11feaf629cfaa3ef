"""Placement on the output timeline: the first publish starts at TIMELINE_START, the first
frame asked about fixes a publish's placement for every rendition, the next publish starts
where the last one ended, and program date times follow the ingest wall clock."""

from __future__ import annotations

import pytest

from packager.output_timeline import TIMELINE_START, OutputTimeline

WALL0 = 1_790_000_000.0


def test_first_publish_starts_at_timeline_start() -> None:
    timeline = OutputTimeline(lambda arrival: WALL0 + arrival)
    placement = timeline.place(first_seconds=123.4, arrival=5.0)
    assert placement.media_start == TIMELINE_START
    assert placement.offset == pytest.approx(TIMELINE_START - 123.4)
    assert placement.wall_start == WALL0 + 5.0


def test_placement_is_shared_until_the_next_publish() -> None:
    asked: list[float] = []

    def wall(arrival: float) -> float:
        asked.append(arrival)
        return WALL0 + arrival

    timeline = OutputTimeline(wall)
    first = timeline.place(2.0, 1.0)
    # Another rendition's first frame (audio a little earlier, arriving later): same place.
    assert timeline.place(1.98, 1.5) is first
    assert asked == [1.0], "the wall clock is read once per publish"
    timeline.next_publish(resume=40.0)
    second = timeline.place(0.0, 30.0)
    assert (second.media_start, second.offset, second.wall_start) == (40.0, 40.0, WALL0 + 30)


def test_resume_never_goes_back() -> None:
    timeline = OutputTimeline(lambda arrival: arrival)
    timeline.next_publish(resume=50.0)
    timeline.next_publish(resume=20.0)  # a rendition that ended earlier than another
    assert timeline.place(0.0, 0.0).media_start == 50.0


def test_program_date_time_maps_output_time_to_the_wall_clock() -> None:
    placement = OutputTimeline(lambda arrival: WALL0 + arrival).place(100.0, 7.0)
    assert placement.program_date_time(TIMELINE_START) == WALL0 + 7.0
    assert placement.program_date_time(TIMELINE_START + 2.5) == pytest.approx(WALL0 + 9.5)
