"""The real clips of ../shared/data as they are, and tampered with PyAV the way a dishonest
institution would: exact rule codes, tampered interval located within 1 s."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from monitor.findings import Verdict, say
from tests.conftest import offset_of
from tests.monitor.footage.conftest import analyze_clip

pytestmark = pytest.mark.shared_data

CLIP_S = 79.5  # vtest: 795 frames at 10 fps


def _rules(report):
    return sorted({f.rule for h in report.hours for f in h.findings} | {f.rule for f in report.findings})


def _only(report, rule):
    found = [f for h in report.hours for f in h.findings if f.rule == rule]
    assert len(found) == 1, f"expected one {rule}, got {[(f.rule, f.start, f.end) for f in found]}"
    return found[0]


def _located(finding, start_s, end_s):
    assert abs(offset_of(finding.start) - start_s) <= 1.0, (finding.start, start_s)
    assert abs(offset_of(finding.end) - end_s) <= 1.0, (finding.end, end_s)


@pytest.mark.parametrize("clip", ["vtest.avi", "short_hamilton_clip.mp4"])
def test_real_clips_as_they_are_come_out_clean(shared_data, tmp_path, clip):
    source = shared_data / "videos" / clip
    shutil.copy(source, tmp_path / clip)
    length = 79.0 if clip == "vtest.avi" else 9.0
    report = analyze_clip(tmp_path / clip, length, practical_min_continuous_s=length)
    assert _rules(report) == []
    assert report.hours[0].verdict is Verdict.VALID
    assert report.hours[0].longest_continuous_s >= length


def test_reencoded_clip_is_clean(tampered, vtest):
    report = analyze_clip(tampered("clean", lambda k: vtest[k]), CLIP_S)
    assert _rules(report) == []


def test_frozen_picture_is_found_and_located(tampered, vtest):
    # frames 300..449 (30 s .. 45 s) all show frame 300
    path = tampered("freeze", lambda k: vtest[300] if 300 <= k < 450 else vtest[k])
    report = analyze_clip(path, CLIP_S)
    assert _rules(report) == ["footage.freeze"]
    _located(_only(report, "footage.freeze"), 30.0, 45.0)
    assert report.hours[0].verdict is Verdict.REVIEW  # 34 s before the freeze still meet the 30 s minimum


def test_still_but_live_classroom_is_not_frozen(tampered, vtest):
    """A static scene with sensor noise and one small moving thing (a hand) for 30 s."""
    rng = np.random.default_rng(5)
    walk = np.cumsum(rng.integers(-3, 4, size=800))

    def still(k):
        if not 200 <= k < 500:
            return vtest[k]
        image = vtest[200].astype(np.int16) + rng.normal(0, 3, vtest[0].shape).astype(np.int16)
        cv2.circle(image, (150 + int(walk[k]) % 60, 150), 6, (30, 30, 30), -1)
        return np.clip(image, 0, 255).astype(np.uint8)

    report = analyze_clip(tampered("still", still), CLIP_S)
    assert _rules(report) == []


def test_black_picture_is_found_and_located(tampered, vtest):
    black = np.zeros_like(vtest[0])
    report = analyze_clip(tampered("black", lambda k: black if 400 <= k < 500 else vtest[k]), CLIP_S)
    assert _rules(report) == ["footage.black"]
    _located(_only(report, "footage.black"), 40.0, 50.0)


def test_covered_lens_counts_as_black(tampered, vtest):
    grey = np.full_like(vtest[0], 140)  # a cloth over the lens in a lit room: uniform, not dark
    report = analyze_clip(tampered("covered", lambda k: grey if 400 <= k < 500 else vtest[k]), CLIP_S)
    assert _rules(report) == ["footage.black"]
    _located(_only(report, "footage.black"), 40.0, 50.0)


def test_loop_is_found_with_both_places(tampered, vtest):
    # 51.3 s .. 66.3 s shows again what was filmed 38.7 s earlier (12.6 s .. 27.6 s): an offset
    # that is not a multiple of the keyframe interval, so keyframes of copy and original differ.
    lag = 387
    report = analyze_clip(tampered("loop", lambda k: vtest[k - lag] if 513 <= k < 663 else vtest[k]), CLIP_S)
    assert _rules(report) == ["footage.loop"]
    loop = _only(report, "footage.loop")
    _located(loop, 51.3, 66.3)
    assert abs(loop.evidence["lag_s"] - 38.7) <= 0.2
    assert abs(loop.evidence["original_start_s"] - 12.6) <= 1.0
    assert report.hours[0].verdict is Verdict.INVALID


def test_loop_in_long_gop_footage_is_found(tampered, vtest):
    """Keyframes 25 s apart: every frame is decoded and sampled every 2 s instead."""
    report = analyze_clip(tampered("loop-long-gop", lambda k: vtest[k - 387] if 513 <= k < 663 else vtest[k],
                                   gop=250), CLIP_S)
    assert report.files[0].sampling == "interval"
    _located(_only(report, "footage.loop"), 51.3, 66.3)


def test_splice_of_other_footage_is_found_and_located(tampered, vtest, hamilton):
    # 30 s .. 40 s show the Hamilton stage instead of the classroom, then the classroom returns
    report = analyze_clip(tampered("splice", lambda k: hamilton[k - 300] if 300 <= k < 400 else vtest[k]), CLIP_S)
    assert _rules(report) == ["footage.splice"]
    splice = _only(report, "footage.splice")
    _located(splice, 30.0, 40.0)
    assert splice.message == "inserted" and say(splice, "zh").startswith("插入了 ")  # #17: from its template
    assert {"before_s", "inserted_s", "after_s"} <= set(splice.evidence)
    before, inserted, after = (f["media_s"] for f in splice.evidence["frames"])  # the pictures an inspector is shown
    assert before < 30.0 <= inserted < 40.0 <= after
    assert report.hours[0].verdict is Verdict.INVALID


def test_lighting_change_is_not_a_splice(tampered, vtest):
    def lights(k):
        if 300 <= k < 500:  # lights on for 20 s, then off again
            return np.clip(vtest[k].astype(np.float32) * 1.4 + 25, 0, 255).astype(np.uint8)
        return vtest[k]

    report = analyze_clip(tampered("lights", lights), CLIP_S)
    assert _rules(report) == []


def test_cut_out_footage_leaves_a_located_gap(tampered, vtest):
    # frames 300..449 removed, timestamps kept: a 15 s hole
    report = analyze_clip(tampered("cut", lambda k: None if 300 <= k < 450 else vtest[k]), CLIP_S)
    assert _rules(report) == ["footage.gap"]
    gap = _only(report, "footage.gap")
    _located(gap, 30.0, 45.0)
    assert report.hours[0].longest_continuous_s == pytest.approx(34.5, abs=0.2)


def test_theory_hour_with_a_freeze_is_not_recorded_in_full(tampered, vtest):
    path = tampered("theory-freeze", lambda k: vtest[300] if 300 <= k < 450 else vtest[k])
    report = analyze_clip(path, CLIP_S, kind="theory")
    assert _rules(report) == ["footage.freeze", "theory.coverage"]
    assert report.hours[0].coverage == pytest.approx((CLIP_S - 15) / CLIP_S, abs=0.02)
    assert report.hours[0].verdict is Verdict.INVALID


def test_practical_hour_fails_when_no_run_is_long_enough(tampered, vtest):
    path = tampered("practical-freeze", lambda k: vtest[300] if 300 <= k < 450 else vtest[k])
    report = analyze_clip(path, CLIP_S, practical_min_continuous_s=40)
    continuity = _only(report, "practical.continuity")
    assert continuity.measured == pytest.approx(34.5, abs=1.0)
    assert continuity.threshold == 40
    assert report.hours[0].verdict is Verdict.INVALID
