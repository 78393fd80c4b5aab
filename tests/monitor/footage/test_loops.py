"""Loops (issue #16): repeats of loop_min_s (5 s) or more at short and long lags on NVR-like footage
(H.265 and H.264, an OSD clock that ticks on over a replay or is replayed with it), reported with
both places and the lag; none on clean footage (test_nvr's clean files run the loop search too).

A repeat shorter than the GOP at a lag that is no multiple of it, on a 10-s GOP, holds no keyframe
and neither does its original: it is found by matching every frame (long GOPs are decoded frame by
frame, `loop_dense_gop_s`), or, where a profile samples pictures of `loop_sizes_min_px` and more at
their keyframes, from the per-frame packet sizes (which miss some such copies: off by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.findings import Verdict
from sample_videos.classroom import Classroom
from sample_videos.nvr import live, replayed, sensor_room, write_nvr
from tests.conftest import CLASS_START, at, offset_of, write_manifest
from tests.monitor.footage.conftest import TEACHERS
from tests.monitor.footage.test_nvr import analyze_nvr, drifting, findings, rules

from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class


@pytest.fixture(scope="module")
def room() -> Classroom:
    return sensor_room(640, 360)


@pytest.fixture(scope="module")
def small_room() -> Classroom:
    return sensor_room(480, 270, seed=3)


def loop_found(report, start_s: float, end_s: float, lag_s: float) -> dict:
    hits = [f for f in findings(report, "footage.loop")
            if abs(offset_of(f.start) - start_s) <= 1.0 and abs(offset_of(f.end) - end_s) <= 1.0]
    assert hits, (start_s, end_s, [(f.rule, offset_of(f.start), offset_of(f.end), f.evidence.get("lag_s"))
                                   for f in findings(report)])
    loop = hits[0]
    assert abs(loop.evidence["lag_s"] - lag_s) <= 0.3
    assert abs(loop.evidence["original_start_s"] - (start_s - lag_s)) <= 1.0  # one file starting at 0
    assert len(loop.evidence["frames"]) == 4  # the copy's ends and the original's
    return loop.evidence


@pytest.mark.parametrize("codec,ext,gop_s", [("hevc", "mp4", 2), ("h264", "mkv", 1)])
def test_a_5_s_repeat_at_a_short_lag_and_a_12_s_one_at_a_long_lag(tmp_path, room, codec, ext, gop_s):
    # 28-40 s shows 3.7-15.7 s again (lag 24.3 s); 58-63 s shows 51.3-56.3 s again (lag 6.7 s):
    # lags that are no multiple of the GOP, so the copies are encoded differently. Each holds one
    # of the loop search's regular probes (every 30 s here).
    script = replayed(replayed(live(CLASS_START), 28, 40, 3.7), 58, 63, 51.3)
    path = write_nvr(tmp_path / f"loops.{ext}", room, script, 70, codec=codec, gop_s=gop_s)
    report = analyze_nvr(path, 70, loop_min_s=5.0, loop_probe_interval_s=30.0)
    assert rules(report) == {"footage.loop"}
    loop_found(report, 28, 40, 24.3)
    loop_found(report, 58, 63, 6.7)
    assert report.hours[0].verdict is Verdict.INVALID


@pytest.mark.parametrize("codec,ext,bframes", [("hevc", "mp4", 0), ("h264", "mkv", 2)])
def test_a_5_s_repeat_at_a_lag_off_the_gop_on_a_10_s_gop(tmp_path, room, codec, ext, bframes):
    # 40-45 s shows 32.7-37.7 s again (lag 7.3 s): neither stretch holds a keyframe (0, 10, … 50 s).
    script = replayed(live(CLASS_START), 40, 45, 32.7)
    path = write_nvr(tmp_path / f"short.{ext}", room, script, 60, codec=codec, gop_s=10, bframes=bframes)
    report = analyze_nvr(path, 60, loop_min_s=5.0)
    assert rules(report) == {"footage.loop"}
    loop_found(report, 40, 45, 7.3)


def test_a_padded_half_replayed_old_clock_and_all(tmp_path, small_room):
    """The second half of the recording is the first half played again, its OSD clock included
    (10-s GOP with B-frames: found from the size series alone, no probe)."""
    script = replayed(live(CLASS_START), 30, 60, 0, old_clock=True)
    path = write_nvr(tmp_path / "padded.ts", small_room, script, 60, codec="hevc", gop_s=10, bframes=3)
    report = analyze_nvr(path, 60, loop_min_s=5.0)
    assert rules(report) <= {"footage.loop", "footage.clock_jump"}  # the clock too, where it reads at 480x270
    loop_found(report, 30, 60, 30)


def test_a_60_s_repeat_under_a_live_clock(tmp_path, small_room):
    script = replayed(live(CLASS_START), 75, 135, 7.9)
    path = write_nvr(tmp_path / "long.mp4", small_room, script, 140, codec="hevc", gop_s=2)
    report = analyze_nvr(path, 140, loop_min_s=5.0)
    assert rules(report) == {"footage.loop"}
    loop_found(report, 75, 135, 67.1)


def test_a_repeat_across_files(tmp_path, room):
    """The second file (an NVR splits the day) replays a stretch of the first."""
    first = write_nvr(tmp_path / "a.mp4", room, live(CLASS_START), 40, codec="hevc", gop_s=2)
    base = live(CLASS_START)

    def second(t: float):
        shown = base(40 + t)
        return base(11.4 + (t - 10)) if 10 <= t < 22 else shown

    write_nvr(tmp_path / "b.mp4", room, second, 40, codec="hevc", gop_s=2)
    manifest = write_manifest(tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(40)}],
                              [("practical", 0, 80)], teachers=TEACHERS,
                              policy_overrides={"practical_min_continuous_s": 20, "loop_min_s": 5.0,
                                                "loop_probe_interval_s": 15.0})
    report = analyze_class(load_class(manifest))
    loops = findings(report, "footage.loop")
    assert len(loops) == 1, [(f.rule, offset_of(f.start), offset_of(f.end)) for f in findings(report)]
    loop = loops[0]
    assert abs(offset_of(loop.start) - 50) <= 1.0 and abs(offset_of(loop.end) - 62) <= 1.0
    assert loop.evidence["file"] == "b.mp4" and loop.evidence["original_file"] == "a.mp4"
    assert abs(loop.evidence["lag_s"] - 38.6) <= 0.3
    assert abs(loop.evidence["original_start_s"] - 11.4) <= 1.0
    assert first.exists()


# A profile that sets `loop_dense_gop_s` above the GOP samples a 10-s GOP at its keyframes and finds
# loops from the per-frame packet size series (monitor.footage.loop.size_candidates), confirmed by
# decoding the copy and its original. A recording played again consists of its own frames: its lag
# is a whole number of frames (25 fps here), whatever the GOP phase it lands on (README: the sizes
# of a copy half a frame off its original do not repeat, which is why this is not the default).
KEYFRAMES_ONLY = {"loop_min_s": 5.0, "loop_dense_gop_s": 12.0}


@pytest.mark.parametrize("ext,bframes", [("mp4", 0), ("ts", 3)])
def test_keyframe_sampling_finds_5_and_12_s_replays_at_short_and_long_lags_from_the_sizes(tmp_path, room, ext,
                                                                                          bframes):
    # 30-35 s shows 22.68-27.68 s again (lag 7.32 s, 183 frames); 85-97 s shows 38.76-50.76 s (lag
    # 46.24 s); 100-105 s shows 11.44-16.44 s (lag 88.56 s): none a multiple of the GOP. With three
    # B-frames the sizes found none of the three (README), so such a stream is decoded frame by frame
    # whatever the profile says (monitor.footage.sampling.dense_gop_limit), and all three are found.
    script = replayed(replayed(replayed(live(CLASS_START), 30, 35, 22.68), 85, 97, 38.76), 100, 105, 11.44)
    path = write_nvr(tmp_path / f"loops.{ext}", room, script, 110, codec="hevc", gop_s=10, bframes=bframes)
    report = analyze_nvr(path, 110, **KEYFRAMES_ONLY)
    assert report.files[0].sampling == ("keyframes" if bframes == 0 else "interval")
    assert rules(report) == {"footage.loop"}
    loop_found(report, 30, 35, 7.32)
    loop_found(report, 85, 97, 46.24)
    loop_found(report, 100, 105, 88.56)
    assert len(findings(report, "footage.loop")) == 3


def test_keyframe_sampling_finds_a_60_s_replay_from_the_sizes(tmp_path, room):
    script = replayed(live(CLASS_START), 65, 125, 3.56)  # lag 61.44 s
    path = write_nvr(tmp_path / "long.mp4", room, script, 130, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 130, **KEYFRAMES_ONLY)
    assert rules(report) == {"footage.loop"}
    loop_found(report, 65, 125, 61.44)


@pytest.mark.parametrize("seed", [20, 21])
def test_keyframe_sampling_of_clean_footage_gives_no_finding(tmp_path, seed):
    """People moving (never repeating), sensor noise, lighting drifting by 20 % over the minute."""
    path = write_nvr(tmp_path / "clean.mp4", sensor_room(640, 360, seed=seed), drifting(), 90, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 90, **KEYFRAMES_ONLY)
    assert report.files[0].sampling == "keyframes"
    assert rules(report) == set()


@pytest.mark.slow  # a minute of 1080p H.265 to make (53-93 s here): a profile's option, not the default path
def test_1080p_long_gop_at_its_keyframes_finds_replays_half_a_frame_off_and_whole(tmp_path):
    """1920x1080 H.265, GOP 10 s, no B-frames: a profile with `loop_sizes_min_px` at 1080p samples it
    at its keyframes, and the sizes' candidates find a 5-s replay whose lag is half a frame off
    (7.3 s = 182.5 frames, the copy's moments between the original's frames) and one of whole frames
    (20.76 s = 519 frames); no copy nor original holds a keyframe."""
    script = replayed(replayed(live(CLASS_START), 22, 27, 14.7), 52, 57, 31.24)
    path = write_nvr(tmp_path / "hd.mp4", sensor_room(1920, 1080), script, 60, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 60, loop_min_s=5.0, loop_sizes_min_px=1920 * 1080)
    assert report.files[0].sampling == "keyframes"
    assert rules(report) == {"footage.loop"}
    loop_found(report, 22, 27, 7.3)
    loop_found(report, 52, 57, 20.76)
    assert len(findings(report, "footage.loop")) == 2
