"""NVR formats (issue #16 item 3) beyond test_nvr's containers and GOPs: 2560x1440 H.265 with its
OSD clock read, a variable frame rate (frames late and dropped) in MKV, where freeze, black and a
loop at a lag off the GOP are found and clean footage gives nothing, and keyframes every second,
sampled at the step and not at each. Short files: a few seconds to a minute each."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.findings import say
from monitor.footage.media import probe, sample
from sample_videos.classroom import Classroom
from sample_videos.nvr import blacked, frozen, live, replayed, sensor_room, write_nvr
from tests.conftest import CLASS_START
from tests.monitor.footage.test_nvr import analyze_nvr, located, rules
from tests.monitor.footage.test_loops import loop_found


@pytest.fixture(scope="module")
def room() -> Classroom:
    return sensor_room(640, 360)


@pytest.mark.slow  # the longest of the main part (make test lists them): run after it, one at a time
def test_1440p_h265_with_a_freeze_and_its_clock_read(tmp_path):
    path = write_nvr(tmp_path / "qhd.mp4", sensor_room(2560, 1440), frozen(live(CLASS_START), 4, 16), 20,
                     codec="hevc", gop_s=10)
    report = analyze_nvr(path, 20, freeze_max_s=5.0)
    f = report.files[0]
    assert (f.width, f.height, f.codec) == (2560, 1440, "hevc")
    assert rules(report) == {"footage.freeze"}
    located(report, "footage.freeze", 4, 16)
    read, of = f.clock.removeprefix("on-screen clock read at ").removesuffix(" samples").split(" of ")
    assert int(read) == int(of) >= 10


def test_a_variable_frame_rate_is_one(tmp_path, room):
    path = write_nvr(tmp_path / "vfr.mkv", room, live(CLASS_START), 10, codec="hevc", gop_s=2, vfr=True)
    steps = np.diff(probe(path).times_s)
    assert steps.min() < 0.03 and steps.max() > 0.06  # frames late and dropped: no constant rate


@pytest.mark.parametrize("codec", ["hevc", "h264"])
def test_freeze_black_and_a_short_loop_at_a_variable_frame_rate(tmp_path, room, codec):
    script = blacked(frozen(replayed(live(CLASS_START), 40, 46, 31.3), 8, 20), 24, 32)
    path = write_nvr(tmp_path / "vfr.mkv", room, script, 55, codec=codec, gop_s=10, vfr=True)
    report = analyze_nvr(path, 55, loop_min_s=5.0)
    assert rules(report) == {"footage.freeze", "footage.black", "footage.loop"}
    located(report, "footage.freeze", 8, 20)
    located(report, "footage.black", 24, 32)
    loop_found(report, 40, 46, 8.7)
    black = next(f for h in report.hours for f in h.findings if f.rule == "footage.black")
    assert black.message == "covered" and say(black, "zh").startswith("画面黑屏或被遮挡 ")  # #17: from its template


def test_clean_footage_at_a_variable_frame_rate_gives_no_finding(tmp_path, room):
    path = write_nvr(tmp_path / "clean.mkv", room, live(CLASS_START), 55, codec="hevc", gop_s=10, vfr=True)
    assert rules(analyze_nvr(path, 55)) == set()


@pytest.mark.parametrize("codec, ext, bframes", [("h264", "ts", 2), ("hevc", "flv", 0), ("hevc", "mp4", 3)])
def test_keyframes_every_second_are_sampled_at_the_step_not_at_each(tmp_path, room, codec, ext, bframes):
    """A 1-s GOP decoded at every keyframe is twice the pictures a 2-s sampling step asks for: only
    every other keyframe reaches the decoder, and no two samples are further apart than the step
    (MPEG-TS starts its timestamps late; B-frames put packets out of presentation order)."""
    path = write_nvr(tmp_path / f"gop1.{ext}", room, live(CLASS_START), 21, codec=codec, gop_s=1, bframes=bframes)
    timeline = probe(path)
    assert timeline.keyframe_times_s.size == 21
    samples = sample(timeline, 2.0)
    assert samples.mode == "keyframes"
    assert 11 <= len(samples) <= 12
    assert np.all(np.diff(samples.times_s) <= 2.0 * 1.05)
    keys = timeline.keyframe_times_s
    assert np.abs(samples.times_s[:, None] - keys[None, :]).min(axis=1).max() < 1e-6  # keyframes only
    assert samples.times_s[0] == pytest.approx(keys[0]) and samples.times_s[-1] == pytest.approx(keys[-1])
