"""The on-screen clock (issue #16 item 4): read with digits learned from the file itself, checked
against where the file is placed. A clock off by two hours is a clock_mismatch (review; the footage
still counts); a clock that jumps back (a recording replayed, old clock and all) or forward (a cut)
is a clock_jump over the stretch, pinned within a second; clean footage gives none; footage
without a clock says so in its file report."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.findings import Verdict, say
from monitor.footage.clock_read import ClockTrack
from monitor.footage.media import SpanReader, luma_plane
from monitor.footage.osd import locate_clock
from monitor.footage.clock_read import learn_in_file
from monitor.footage.media import probe
from sample_videos.classroom import Classroom
from sample_videos.nvr import Shown, live, replayed, sensor_room, write_nvr
from tests.conftest import CLASS_START
from tests.monitor.footage.test_nvr import analyze_nvr, findings, located, rules


@pytest.fixture(scope="module")
def room() -> Classroom:
    """720p: its OSD digits are 24 px high. At 360p (12 px) a digit read 0.22 from its own template
    and 0.25 from the next on a keyframe: such pictures read as unreadable (see clock_read)."""
    return sensor_room(1280, 720)


def _read_at_every_frame(path: Path, clock_start: datetime) -> None:
    """The clock located in the file's first seconds, learned from the dozen after, then read
    right at every frame of the file."""
    timeline = probe(path)
    reader = SpanReader(path)
    try:
        region = locate_clock(reader, 0.0)
        assert region is not None, "no clock found"
        clock = learn_in_file(reader, region, 4.3, timeline.end_s, timeline.frame_duration_s)
        assert clock is not None and clock.layout == (4, 2, 2, 2, 2, 2), "the clock was not learned"
        read = [(t, clock.read(luma_plane(f))) for t, f in reader.frames(0.0, timeline.end_s)]
    finally:
        reader.close()
    expected = clock_start.replace(tzinfo=None)
    assert len(read) == timeline.times_s.size
    assert all(shown == expected + timedelta(seconds=int(t + 1e-6)) for t, shown in read), \
        [(t, s) for t, s in read if s != expected + timedelta(seconds=int(t + 1e-6))][:5]


# 1080p: among the longest of the main part (make test lists them), run after it one at a time
@pytest.mark.parametrize("size", [(1280, 720), pytest.param((1920, 1080), marks=pytest.mark.slow)])
def test_the_clock_is_read_at_every_frame_once_learned(tmp_path, size):
    start = CLASS_START + timedelta(hours=1, seconds=47)
    _read_at_every_frame(write_nvr(tmp_path / "clock.mp4", sensor_room(*size), live(start), 24, codec="hevc", gop_s=10),
                         start)


class _CrowdedUnderTheClock(Classroom):
    """Light shapes of a digit's height in a row a few pixels under the clock's line, filling its
    columns (bench/faces.py's 1080p classroom: the top row of faces 20 px below the digits). The
    band the clock is looked for in is cut from thumbnail rows, so it holds them too."""

    def frame(self, t: float, lights: float = 1.0) -> np.ndarray:
        image = super().frame(t, lights)
        h, w = image.shape[:2]
        top, high = int(h * 0.078), int(h * 0.03)
        for x in range(int(h * 0.01), w, int(h * 0.04)):
            image[top:top + high, x:x + int(h * 0.02)] = 235
        return image


def test_a_clock_with_light_shapes_just_under_it_is_still_learned_and_read(tmp_path):
    room = _CrowdedUnderTheClock(1920, 1080, trainees=0, seed=7, noise_sigma=0.0)
    _read_at_every_frame(write_nvr(tmp_path / "crowded.mp4", room, live(CLASS_START), 18, codec="hevc", gop_s=10),
                         CLASS_START)


@pytest.mark.parametrize("size, lights", [((1280, 720), 1.0), pytest.param((1920, 1080), 1.0, marks=pytest.mark.slow),
                                          ((1920, 1080), 2.0)])
def test_an_outlined_clock_is_learned_and_read_even_over_a_white_room(tmp_path, size, lights):
    """Digits ringed in black as NVRs draw them. Over a room lit to white, each digit's holes and
    the pockets between touching digits ("08") show the room through the ring: light shapes inside
    and between the glyphs, as many as the digits, that the reader must leave out (they took the
    line's height for theirs, and joined two digits into one glyph too wide to be one)."""
    start = CLASS_START + timedelta(seconds=47)
    clock = live(start, outline=True)
    path = write_nvr(tmp_path / "outlined.mp4", sensor_room(*size),
                     lambda t: Shown(t, clock(t).clock, lights, outline=True), 18, codec="hevc", gop_s=10)
    _read_at_every_frame(path, start)


def test_clean_footage_reads_its_clock_at_every_sample_and_gives_no_finding(tmp_path, room):
    path = write_nvr(tmp_path / "clean.mp4", room, live(CLASS_START), 45, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 45)
    assert rules(report) == set()
    read, of = re.fullmatch(r"on-screen clock read at (\d+) of (\d+) samples", report.files[0].clock).groups()
    assert read == of and int(of) >= report.files[0].samples  # a keyframe inside a dense span is read twice


def test_a_clock_two_hours_off_is_a_mismatch_that_leaves_the_footage_standing(tmp_path, room):
    path = write_nvr(tmp_path / "late.mp4", room, live(CLASS_START + timedelta(hours=2)), 45, codec="h264", gop_s=2)
    report = analyze_nvr(path, 45)
    assert rules(report) == {"footage.clock_mismatch"}
    (mismatch,) = findings(report, "footage.clock_mismatch")
    assert abs(mismatch.measured - 7200) <= 1 and mismatch.threshold == 60.0
    assert mismatch.clause == "003 §19"  # zhengzhou-2022's clause, as for every footage finding
    assert mismatch.evidence["frames"] and mismatch.evidence["start_source"] == "declared"
    assert "7200" in say(mismatch, "zh") and "画面时钟" in say(mismatch, "zh")
    assert report.hours[0].verdict is Verdict.REVIEW  # the pictures still count: continuity holds
    assert report.hours[0].longest_continuous_s >= 44


def test_within_the_tolerance_is_no_mismatch(tmp_path, room):
    path = write_nvr(tmp_path / "near.mp4", room, live(CLASS_START + timedelta(seconds=40)), 30, codec="hevc", gop_s=2)
    assert rules(analyze_nvr(path, 30)) == set()


def test_a_recording_replayed_with_its_old_clock_is_a_jump_back_over_the_replay(tmp_path, room):
    # 30-42 s shows 5.3-17.3 s again, its clock included (lag 24.7 s, no multiple of the GOP).
    script = replayed(live(CLASS_START), 30, 42, 5.3, old_clock=True)
    path = write_nvr(tmp_path / "replay.mkv", room, script, 60, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 60, loop_min_s=30.0)  # the clock alone, the picture matching aside
    assert rules(report) == {"footage.clock_jump"}
    located(report, "footage.clock_jump", 30, 42)
    (jump,) = findings(report, "footage.clock_jump")
    assert jump.evidence["kind"] == "back" and abs(jump.measured - 25) <= 1.5
    assert len(jump.evidence["frames"]) == 3
    assert "倒退" in say(jump, "zh")


def test_a_clock_that_jumps_forward_is_a_cut(tmp_path, room):
    clock = live(CLASS_START)
    script = lambda t: Shown(t, clock(t + 300 if t >= 34 else t).clock)  # noqa: E731
    path = write_nvr(tmp_path / "cut.ts", room, script, 45, codec="h264", gop_s=4)
    report = analyze_nvr(path, 45)
    assert rules(report) == {"footage.clock_jump"}
    located(report, "footage.clock_jump", 34, 45)
    assert findings(report, "footage.clock_jump")[0].evidence["kind"] == "forward"


def test_footage_without_a_clock_says_so_and_has_no_clock_finding(tmp_path, room):
    path = write_nvr(tmp_path / "plain.mp4", room, live(CLASS_START, osd=False), 30, codec="hevc", gop_s=2)
    report = analyze_nvr(path, 30)
    assert rules(report) == set()
    assert report.files[0].clock == "no on-screen clock found"


def test_a_track_without_a_reader_notes_that_the_clock_could_not_be_read():
    import numpy as np

    from monitor.footage.osd import OsdRegion
    track = ClockTrack(OsdRegion((0, 3), 4, (0, 0, 100, 100)), None, np.zeros(0), ())
    assert track.note == "an on-screen clock ticks but could not be read"


def test_a_clock_running_fast_is_a_wrong_rate(tmp_path, room):
    clock = live(CLASS_START)
    script = lambda t: Shown(t, clock(t * 1.2).clock)  # noqa: E731  (30-fps pictures played at 25)
    path = write_nvr(tmp_path / "fast.mp4", room, script, 45, codec="hevc", gop_s=2)
    report = analyze_nvr(path, 45)
    assert rules(report) == {"footage.clock_jump"}
    (rate,) = findings(report, "footage.clock_jump")
    assert abs(rate.measured - 1.2) <= 0.02 and rate.message == "rate"
