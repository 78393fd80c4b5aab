"""A picture held up to the camera is framed by straight edges; real photos of people are not."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from monitor.faces.detect import PORTRAIT_DETECT_SIDE, faces_in
from monitor.faces.enrol import load_rgb
from monitor.faces.held_up import frame_sides
from monitor.policy import load_policy

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022")


def held_up_picture(shared_data: Path, photo: Path, out: Path) -> None:
    """A real photo shown on a phone (dark bezel) held up in front of a real street scene."""
    with av.open(str(shared_data / "videos" / "vtest.avi")) as container:
        scene = next(np.ascontiguousarray(f.to_ndarray(format="rgb24")) for n, f in enumerate(container.decode(video=0))
                     if n == 50)
    scene = cv2.resize(scene, (960, 720))
    shown = np.asarray(Image.open(photo).convert("RGB"))
    height = 420
    width = min(600, int(shown.shape[1] * height / shown.shape[0]))
    scene[150 - 18:150 + height + 18, 200 - 18:200 + width + 18] = (20, 20, 20)
    scene[150:150 + height, 200:200 + width] = cv2.resize(shown, (width, height))
    Image.fromarray(scene).save(out, "JPEG", quality=90)


def _sides(path: Path) -> list[list[str]]:
    picture = load_rgb(path, path.name)
    return [frame_sides(picture, f.box, reach=POLICY.held_up_reach, min_length=POLICY.held_up_min_length)
            for f in faces_in(picture, detect_max_side=PORTRAIT_DETECT_SIDE)]


def test_real_photos_of_people_are_not_framed(shared_data):
    photos = sorted((shared_data / "faces").glob("*/*")) + sorted((shared_data / "groups").glob("*"))
    sides = {p.name: _sides(p) for p in photos}
    assert sum(len(found) for found in sides.values()) >= 12  # the faces were found: the test looked at them
    assert all(len(s) < POLICY.held_up_min_sides for found in sides.values() for s in found), sides


@pytest.mark.parametrize("photo", ["obama/4.jpg", "biden/2.jpg", "kit_harington/2.jpg", "alex_lacamoire/1.jpg"])
def test_a_photo_held_up_on_a_phone_is_framed(shared_data, tmp_path, photo):
    held_up_picture(shared_data, shared_data / "faces" / photo, tmp_path / "held.jpg")
    found = _sides(tmp_path / "held.jpg")
    assert len(found) == 1 and len(found[0]) >= POLICY.held_up_min_sides, found
