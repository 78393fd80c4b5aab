"""Enrolment on real faces (../shared/data/faces and groups)."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from monitor.faces.enrol import EncodingCache, EnrolmentError, enrol
from monitor.policy import load_policy
from sample_videos.classroom import Classroom

pytestmark = pytest.mark.shared_data
MIN_FACE = load_policy("zhengzhou-2022").enrolment_min_face_px


@pytest.fixture
def cache(tmp_path):
    return EncodingCache(tmp_path / "cache")


def test_a_portrait_enrols_once_and_is_cached(shared_data, cache, tmp_path):
    photo = shared_data / "faces" / "obama" / "1.jpg"
    first = enrol("T-001", "Obama", photo, cache, MIN_FACE)
    assert first.encoding.shape == (128,) and not first.cached
    # The same bytes under another name: the sha256 finds the cached encoding.
    copy = tmp_path / "renamed.jpg"
    shutil.copy(photo, copy)
    again = enrol("T-009", "Someone", copy, cache, MIN_FACE)
    assert again.cached and np.array_equal(again.encoding, first.encoding)


def test_encodings_tell_people_apart(shared_data, cache):
    faces = shared_data / "faces"
    obama1 = enrol("a", "a", faces / "obama" / "1.jpg", cache, MIN_FACE).encoding
    obama2 = enrol("b", "b", faces / "obama" / "2.jpg", cache, MIN_FACE).encoding
    biden = enrol("c", "c", faces / "biden" / "1.jpg", cache, MIN_FACE).encoding
    assert np.linalg.norm(obama1 - obama2) < 0.6 < np.linalg.norm(obama1 - biden)


def test_a_group_photo_is_refused_naming_the_trainee(shared_data, cache):
    with pytest.raises(EnrolmentError, match=r"T-002 \(张伟\).*2 faces in .*two_people.jpg"):
        enrol("T-002", "张伟", shared_data / "groups" / "two_people.jpg", cache, MIN_FACE)


def test_a_photo_without_a_face_is_refused(cache, tmp_path):
    empty_room = tmp_path / "room.jpg"
    cv2.imwrite(str(empty_room), Classroom(640, 360, trainees=0).frame(0))
    with pytest.raises(EnrolmentError, match=r"T-003 \(王芳\): no face found in .*room.jpg"):
        enrol("T-003", "王芳", empty_room, cache, MIN_FACE)


def test_a_face_too_small_is_refused(shared_data, cache):
    with pytest.raises(EnrolmentError, match=r"62 px high, at least 80 px needed"):
        enrol("T-004", "李娜", shared_data / "faces" / "obama" / "5-240p.jpg", cache, MIN_FACE)


def test_not_an_image_and_a_decompression_bomb_are_refused(cache, tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"%PDF-1.4 not an image")
    with pytest.raises(EnrolmentError, match="not a readable image"):
        enrol("T-005", "刘洋", fake, cache, MIN_FACE)
    bomb = tmp_path / "bomb.png"
    from PIL import Image

    Image.new("L", (9000, 9000)).save(bomb, optimize=True)  # 81 megapixels of nothing, a small file
    with pytest.raises(EnrolmentError, match="too large"):
        enrol("T-006", "陈静", bomb, cache, MIN_FACE)
