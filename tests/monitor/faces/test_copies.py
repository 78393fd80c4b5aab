"""A copy of a photo, however cut or resized, shares its structure; another photo does not, even
of the same person a moment later (face_recognition's own test photos and ../shared/data)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monitor.faces.copies import keypoints, shared_structure
from monitor.faces.enrol import load_rgb
from monitor.policy import load_policy

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022")


def _keys(path: Path):  # type: ignore[no-untyped-def]
    return keypoints(load_rgb(path, path.name))


@pytest.mark.parametrize("copy", ["obama_partial_face.jpg", "obama_partial_face2.jpg"])
def test_a_photo_cut_through_the_face_is_a_copy(fr_images, copy):
    assert shared_structure(_keys(fr_images / copy), _keys(fr_images / "obama.jpg")) >= POLICY.face_copy_min_matches


def test_other_photos_of_the_same_person_or_another_are_not_copies(fr_images, shared_data):
    original = _keys(fr_images / "obama.jpg")
    others = [fr_images / "obama2.jpg", fr_images / "obama3.jpg", fr_images / "biden.jpg",
              shared_data / "faces" / "obama" / "2.jpg", shared_data / "faces" / "obama" / "4.jpg"]
    shared = {p.name: shared_structure(_keys(p), original) for p in others}
    assert max(shared.values()) < POLICY.face_copy_min_matches / 3, shared  # far below, not just below


def test_recompressed_resized_and_cropped_copies_are_copies(shared_data):
    photo = Image.open(shared_data / "faces" / "obama" / "2.jpg").convert("RGB")
    original = keypoints(np.asarray(photo))
    recompressed = io.BytesIO()
    photo.save(recompressed, "JPEG", quality=30)
    w, h = photo.size
    for name, copy in {"quality 30": Image.open(recompressed), "half size": photo.resize((w // 2, h // 2)),
                       "cropped 5%": photo.crop((w // 20, h // 20, w, h))}.items():
        assert shared_structure(keypoints(np.asarray(copy.convert("RGB"))), original) >= POLICY.face_copy_min_matches, name
