"""Hour edges (#17): footage that starts or stops within `gap_tolerance_s` of a class hour's
edge covers the hour; beyond it, the hour is short and says why with a `footage.gap`."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.findings import Verdict
from monitor.footage import intervals as iv
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.classroom import Classroom
from sample_videos.writer import write_video
from tests.conftest import at, offset_of, write_manifest
from tests.monitor.footage.conftest import TEACHERS

FPS = 25
SIZE = (320, 180)


@pytest.fixture(scope="module")
def room() -> Classroom:
    return Classroom(*SIZE, trainees=6)


def _recording(folder: Path, name: str, room: Classroom, start_s: float, end_s: float) -> None:
    frames = ((k, room.frame(start_s + k / FPS)) for k in range(round((end_s - start_s) * FPS)))
    write_video(folder / name, frames, FPS, SIZE, gop=2 * FPS)


def _rules(findings) -> list[str]:
    return sorted(f.rule for f in findings)


def test_edges_within_the_tolerance_are_closed_beyond_it_not():
    assert iv.to_edges([(1.0, 59.0)], 0.0, 60.0, 2.0) == [(0.0, 60.0)]
    assert iv.to_edges([(2.0, 58.0)], 0.0, 60.0, 2.0) == [(0.0, 60.0)]
    assert iv.to_edges([(3.0, 57.0)], 0.0, 60.0, 2.0) == [(3.0, 57.0)]
    # Only the intervals at the edges move; one that starts before the hour stays as it is.
    assert iv.to_edges([(-5.0, 10.0), (20.0, 59.5)], 0.0, 60.0, 2.0) == [(-5.0, 10.0), (20.0, 60.0)]
    assert iv.to_edges([], 0.0, 60.0, 2.0) == []
    assert iv.inside((59.0, 70.0), (0.0, 60.0), 2.0) is False
    assert iv.inside((57.0, 70.0), (0.0, 60.0), 2.0) is True


@pytest.mark.parametrize(("late_s", "valid"), [(1.0, True), (2.0, True), (4.0, False)])
def test_a_theory_hour_whose_footage_starts_late(tmp_path, room, late_s, valid):
    _recording(tmp_path, "a.mp4", room, late_s, 60)
    report = analyze_class(load_class(write_manifest(tmp_path, [{"path": "a.mp4", "start": at(late_s)}],
                                                     [("theory", 0, 60)], teachers=TEACHERS)))
    hour = report.hours[0]
    if valid:
        assert hour.verdict is Verdict.VALID and hour.findings == []
        assert hour.coverage == pytest.approx(1.0)
    else:
        assert hour.verdict is Verdict.INVALID
        assert _rules(hour.findings) == ["footage.gap", "theory.coverage"]
        gap = next(f for f in hour.findings if f.rule == "footage.gap")
        assert (offset_of(gap.start), offset_of(gap.end)) == pytest.approx((0.0, late_s), abs=0.05)
        assert gap.threshold == 2.0 and gap.clause == "003 §19"


def test_a_theory_hour_whose_footage_stops_early(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 59)  # 1 s early: within the tolerance
    _recording(tmp_path, "b.mp4", room, 60, 115)  # the second hour's footage stops 5 s early
    report = analyze_class(load_class(write_manifest(
        tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(60)}],
        [("theory", 0, 60), ("theory", 60, 120)], teachers=TEACHERS)))
    first, second = report.hours
    assert first.verdict is Verdict.VALID and first.findings == []
    assert second.verdict is Verdict.INVALID
    assert _rules(second.findings) == ["footage.gap", "theory.coverage"]


def test_a_hole_across_the_break_that_ends_a_second_into_the_next_hour(tmp_path, room):
    """The hole lies in the break between the hours; the second hour loses 1 s of it at its start:
    that hour is covered, and the hole is still reported, with the class."""
    _recording(tmp_path, "a.mp4", room, 0, 60)
    _recording(tmp_path, "b.mp4", room, 81, 140)
    report = analyze_class(load_class(write_manifest(
        tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(81)}],
        [("theory", 0, 60), ("theory", 80, 140)], teachers=TEACHERS)))
    assert [h.verdict for h in report.hours] == [Verdict.VALID, Verdict.VALID]
    gaps = [f for f in report.findings if f.rule == "footage.gap"]
    assert [(round(offset_of(g.start)), round(offset_of(g.end))) for g in gaps] == [(60, 81)]
