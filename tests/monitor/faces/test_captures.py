"""Judging online face captures on real faces: the learner passes, another person fails, copies
of an earlier capture or of the enrolment photo are replays, a group is for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from monitor.faces.captures import ReplayIndex, judge_capture
from monitor.faces.enrol import EncodingCache, enrol
from monitor.findings import Severity
from monitor.policy import load_policy

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022")


def _judge(capture: Path, enrolled, index: ReplayIndex):
    return judge_capture(capture, enrolled, index, tolerance=POLICY.face_match_tolerance,
                         min_face_px=POLICY.capture_min_face_px, replay_max_bits=POLICY.face_replay_max_bits)


@pytest.fixture
def obama(shared_data, tmp_path):
    return enrol("L-1", "Obama", shared_data / "faces" / "obama" / "1.jpg", EncodingCache(tmp_path),
                 POLICY.enrolment_min_face_px)


def _variant(source: Path, folder: Path, name: str, *, quality: int = 90, scale: float = 1.0, crop: float = 0.0) -> Path:
    """A copy of a capture as a cheat would re-send it: re-compressed, resized, cropped by a few per cent."""
    image = Image.open(source).convert("RGB")
    w, h = image.size
    if crop:
        image = image.crop((int(w * crop), int(h * crop), w - int(w * crop), h - int(h * crop)))
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    path = folder / name
    image.save(path, "JPEG", quality=quality)
    return path


def test_genuine_captures_of_the_learner_pass(shared_data, obama):
    index = ReplayIndex()
    for photo in ("2.jpg", "3.jpg", "4.jpg"):
        verdict = _judge(shared_data / "faces" / "obama" / photo, obama, index)
        assert verdict.passed, verdict
        assert verdict.distance < POLICY.face_match_tolerance


def test_another_person_fails(shared_data, obama):
    verdict = _judge(shared_data / "faces" / "biden" / "1.jpg", obama, ReplayIndex())
    assert (verdict.rule, verdict.severity) == ("online.face_mismatch", Severity.INVALIDATES)
    assert verdict.distance > POLICY.face_match_tolerance


@pytest.mark.parametrize(("quality", "scale", "crop"), [(90, 1.0, 0.0), (30, 1.0, 0.0), (85, 0.5, 0.0),
                                                        (80, 1.0, 0.04), (50, 0.7, 0.03)])
def test_a_copy_of_an_earlier_capture_is_a_replay(shared_data, obama, tmp_path, quality, scale, crop):
    index = ReplayIndex()
    original = shared_data / "faces" / "obama" / "2.jpg"
    assert _judge(original, obama, index).passed
    copy = _variant(original, tmp_path, "again.jpg", quality=quality, scale=scale, crop=crop)
    verdict = _judge(copy, obama, index)
    assert verdict.rule == "online.face_replay" and verdict.replay_of == str(original)
    assert verdict.hash_distance <= POLICY.face_replay_max_bits


def test_the_ready_made_resent_capture_is_a_replay(shared_data, obama):
    index = ReplayIndex()
    assert _judge(shared_data / "faces" / "obama" / "2.jpg", obama, index).passed
    assert _judge(shared_data / "faces" / "obama" / "2-reencoded.png", obama, index).rule == "online.face_replay"


def test_the_enrolment_photo_sent_as_a_capture_is_a_replay(shared_data, obama, tmp_path):
    resent = _variant(shared_data / "faces" / "obama" / "1.jpg", tmp_path, "me.jpg", quality=60, scale=0.8)
    verdict = _judge(resent, obama, ReplayIndex())
    assert verdict.rule == "online.face_replay" and verdict.replay_of.startswith("enrolment photo")


def test_a_group_photo_is_for_review(shared_data, obama):
    verdict = _judge(shared_data / "groups" / "obama_and_biden.jpg", obama, ReplayIndex())
    assert (verdict.rule, verdict.severity) == ("online.face_mismatch", Severity.REVIEW)


def test_a_capture_without_a_face_is_missing(obama, tmp_path):
    blank = tmp_path / "wall.jpg"
    Image.new("RGB", (640, 480), (200, 190, 180)).save(blank)
    assert _judge(blank, obama, ReplayIndex()).rule == "online.face_missing"
