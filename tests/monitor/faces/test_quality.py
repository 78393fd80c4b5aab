"""Whether a found face can be identified (monitor/faces/quality.py), on real faces: the turn
measure on the real clip's speaker facing the camera and turned three-quarters away, and on the
still photos the roster match was measured on."""

from __future__ import annotations

import av
import numpy as np
import pytest

from monitor.faces.detect import PORTRAIT_DETECT_SIDE, faces_in
from monitor.faces.enrol import load_rgb
from monitor.faces.quality import identifiable, sharpness, turn
from monitor.policy import load_policy

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022")
FACING = (147, 150, 180)  # frames of short_hamilton_clip.mp4: the speaker looks at the camera
TURNED = (129, 135, 204, 210)  # his head turned three-quarters away (to the image's left)


@pytest.fixture(scope="module")
def hamilton(shared_data):
    wanted = set(FACING + TURNED)
    with av.open(str(shared_data / "videos" / "short_hamilton_clip.mp4")) as container:
        return {k: np.ascontiguousarray(f.to_ndarray(format="rgb24"))
                for k, f in enumerate(container.decode(video=0)) if k in wanted}


def _speaker(picture):
    return max(faces_in(picture), key=lambda f: f.height_px).box


def test_the_turn_of_a_face_facing_the_camera_and_of_one_turned_away(hamilton):
    facing = [turn(hamilton[k], _speaker(hamilton[k])) for k in FACING]
    turned = [turn(hamilton[k], _speaker(hamilton[k])) for k in TURNED]
    assert max(facing) < 0.2, facing
    assert min(turned) > POLICY.identifiable_max_turn, turned


def test_the_still_photos_the_match_was_measured_on_are_within_the_turn(shared_data):
    """Every portrait of the four people (the existing classroom's trainees and its stranger,
    alex_lacamoire/2.png, among them) turns less than the profile allows: none is judged turned."""
    photos = sorted(p for p in (shared_data / "faces").glob("*/*") if p.suffix in (".jpg", ".png"))
    turns = {}
    for photo in photos:
        picture = load_rgb(photo, "photo")
        face = max(faces_in(picture, PORTRAIT_DETECT_SIDE), key=lambda f: f.height_px)
        turns[f"{photo.parent.name}/{photo.name}"] = turn(picture, face.box)
    assert len(turns) >= 12 and max(turns.values()) < POLICY.identifiable_max_turn, turns


def test_a_large_sharp_face_turned_away_is_not_identifiable(hamilton):
    picture = hamilton[135]
    box = _speaker(picture)
    assert box[2] - box[0] >= POLICY.identifiable_min_face_px and sharpness(picture, box) >= POLICY.identifiable_min_sharpness
    args = (POLICY.identifiable_min_face_px, POLICY.identifiable_min_sharpness)
    assert identifiable(picture, box, *args, max_turn=1.0)  # size and sharpness alone would pass it
    assert not identifiable(picture, box, *args, max_turn=POLICY.identifiable_max_turn)
    facing = hamilton[150]
    assert identifiable(facing, _speaker(facing), *args, max_turn=POLICY.identifiable_max_turn)
