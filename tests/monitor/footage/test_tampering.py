"""Camera tampering as NVRs define it (issue #16 item 5), beside black and covered: the lens out of
focus (footage.defocus) and the camera turned away from the class (footage.camera_moved), each
longer than its profile limit, located within a sampling step and with before/after frames; clean
footage with drifting light and people moving gives neither."""

from __future__ import annotations

import pytest

from monitor.findings import say
from sample_videos.classroom import Classroom
from sample_videos.nvr import Script, Shown, defocused, live, sensor_room, turned_away, write_nvr
from tests.monitor.footage.test_nvr import CLASS_START, analyze_nvr, drifting, findings, located, rules


@pytest.fixture(scope="module")
def room() -> Classroom:
    return sensor_room(1280, 720)


@pytest.mark.slow  # the longest of the main part (make test lists them): run after it, one at a time
def test_a_lens_out_of_focus_for_15_s(tmp_path, room):
    path = write_nvr(tmp_path / "blur.mp4", room, defocused(drifting(), 15, 30, 4.0), 45, codec="hevc", gop_s=2)
    report = analyze_nvr(path, 45)
    assert rules(report) == {"footage.defocus"}
    located(report, "footage.defocus", 15, 30)
    (blur,) = findings(report, "footage.defocus")
    assert blur.threshold == 10.0 and blur.evidence["sharpness_share"] < 0.4
    assert len(blur.evidence["frames"]) == 3  # before, the blurriest, after
    assert "失焦" in say(blur, "zh")


def test_a_short_blur_is_within_the_limit(tmp_path, room):
    path = write_nvr(tmp_path / "blip.mp4", room, defocused(drifting(), 15, 21, 4.0), 30, codec="h264", gop_s=2)
    assert rules(analyze_nvr(path, 30)) == set()


@pytest.mark.slow
def test_a_camera_turned_away_for_good(tmp_path, room):
    path = write_nvr(tmp_path / "turned.mkv", room, turned_away(drifting(), 22, 99), 45, codec="hevc", gop_s=2)
    report = analyze_nvr(path, 45)
    assert rules(report) == {"footage.camera_moved"}
    located(report, "footage.camera_moved", 22, 45)
    (moved,) = findings(report, "footage.camera_moved")
    assert moved.evidence["similarity_min"] < 0.45 and len(moved.evidence["frames"]) == 2
    assert "摄像头" in say(moved, "zh")


def test_a_camera_turned_away_and_back(tmp_path, room):
    path = write_nvr(tmp_path / "back.mp4", room, turned_away(drifting(), 15, 30), 45, codec="h264", gop_s=2)
    report = analyze_nvr(path, 45)
    assert "footage.camera_moved" in rules(report) <= {"footage.camera_moved", "footage.splice"}
    located(report, "footage.camera_moved", 15, 30)
    assert len(findings(report, "footage.camera_moved")[0].evidence["frames"]) == 3  # before, turned, after


def test_clean_footage_has_no_tampering_finding(tmp_path, room):
    path = write_nvr(tmp_path / "clean.mp4", room, drifting(), 45, codec="hevc", gop_s=10)
    assert rules(analyze_nvr(path, 45)) == set()


def over_lit(lights: float = 2.2) -> Script:
    """A room lit so brightly that its walls and board are near white (lights x2.2, drifting up by
    0.2 over two minutes): the dark teacher walking about holds most of the picture's edges."""
    clock = live(CLASS_START)
    return lambda t: Shown(t, clock(t).clock, lights + 0.2 * t / 120)


@pytest.fixture(scope="module")
def bright_room() -> Classroom:
    return sensor_room(640, 360, seed=25)


def test_an_over_lit_clean_room_is_neither_turned_away_nor_spliced(tmp_path, bright_room):
    """Compared by raw edge strength this class fell to 0.41 against its reference view and 0.45
    between two samples: a footage.camera_moved and a footage.splice on clean footage."""
    path = write_nvr(tmp_path / "bright.mp4", bright_room, over_lit(), 120, codec="hevc", gop_s=10)
    assert rules(analyze_nvr(path, 120)) == set()


def test_a_camera_turned_away_in_an_over_lit_room(tmp_path, bright_room):
    path = write_nvr(tmp_path / "bright-turned.mp4", bright_room, turned_away(over_lit(), 35, 99), 60,
                     codec="hevc", gop_s=10)
    report = analyze_nvr(path, 60)
    assert "footage.camera_moved" in rules(report) <= {"footage.camera_moved", "footage.splice"}
    located(report, "footage.camera_moved", 35, 60)


@pytest.mark.slow
def test_an_over_lit_1080p_class_sampled_at_its_keyframes_gives_no_finding(tmp_path):
    """1080p and more is sampled at its keyframes by default: samples 10 s apart, between which the
    teacher walks far. Here the structure fell to 0.69 and the raw edges to 0.32 between clean
    keyframes, and a footage.splice lay over 13.8-67.8 s until a cut had to be one from a frame to
    the next (the frame before the first unlike one differed by next to nothing)."""
    path = write_nvr(tmp_path / "bright-hd.mp4", sensor_room(1920, 1080, seed=28), over_lit(1.8), 120,
                     codec="hevc", gop_s=10)
    report = analyze_nvr(path, 120)
    assert report.files[0].sampling == "keyframes"
    assert rules(report) == set()
