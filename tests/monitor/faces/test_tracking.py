"""Following faces from one check moment to the next (monitor/faces/tracking.py) on real faces:
a face that stays is followed without a new search, a camera that creeps does not lose it, a
person who takes another's seat is found as themselves, one who leaves is gone, one who comes
back is found again."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from monitor.faces.detect import faces_in
from monitor.faces.tracking import FaceTracker

pytestmark = pytest.mark.shared_data


def _portrait(path, height=200) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    return np.asarray(image.resize((int(image.width * height / image.height), height)))


def _scene(seated: dict[int, np.ndarray], shift: int = 0, seed: int = 0,
           sway: dict[int, tuple[int, int]] | None = None) -> np.ndarray:
    """A grey 1280x540 room with a portrait on each seat (seat n at x = 40 + 420 n), sensor noise;
    `sway` moves a seat's person by (x, y) pixels."""
    image = np.full((540, 1280, 3), 120, np.uint8)
    for seat, portrait in seated.items():
        sx, sy = (sway or {}).get(seat, (0, 0))
        y, x = 150 + shift + sy, 40 + 420 * seat + shift + sx
        h, w = portrait.shape[:2]
        image[y:y + h, x:x + w] = portrait
    noise = np.random.default_rng(seed).integers(-3, 4, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def _who(faces, known: dict[str, np.ndarray]) -> list[str]:
    return sorted(min(known, key=lambda k: np.linalg.norm(known[k] - f.encoding)) for f in faces)


@pytest.fixture
def people(shared_data):
    faces = shared_data / "faces"
    portraits = {"obama": _portrait(faces / "obama" / "4.jpg"), "biden": _portrait(faces / "biden" / "2.jpg"),
                 "kit": _portrait(faces / "kit_harington" / "2.jpg")}
    known = {name: faces_in(p)[0].encoding for name, p in portraits.items()}
    return portraits, known


def test_faces_are_followed_swapped_lost_and_found_again(people):
    portraits, known = people
    tracker = FaceTracker(full_every=100)  # no full search after the first: following alone
    first = tracker.faces(_scene({0: portraits["obama"], 1: portraits["biden"]}))
    assert _who(first, known) == ["biden", "obama"]
    searched = tracker.searched_px

    still = tracker.faces(_scene({0: portraits["obama"], 1: portraits["biden"]}, shift=3, seed=1))
    assert _who(still, known) == ["biden", "obama"]
    assert tracker.searched_px == searched  # nothing changed but the camera: no search at all

    swapped = tracker.faces(_scene({0: portraits["kit"], 1: portraits["biden"]}, shift=3, seed=2))
    assert _who(swapped, known) == ["biden", "kit"]  # Kit in Obama's seat is Kit
    assert tracker.searched_px - searched < 1280 * 540 / 2  # only around the seat that changed

    gone = tracker.faces(_scene({1: portraits["biden"]}, shift=4, seed=3))
    assert _who(gone, known) == ["biden"]

    back = tracker.faces(_scene({1: portraits["biden"], 2: portraits["obama"]}, shift=4, seed=4))
    assert _who(back, known) == ["biden", "obama"]


def test_trainees_swaying_in_their_seats_are_followed_without_a_search(people):
    portraits, known = people
    seated = {0: portraits["obama"], 1: portraits["biden"]}
    tracker = FaceTracker(full_every=100)
    tracker.faces(_scene(seated))
    # The first time, what moves beyond head and shoulders (here the photo's own edges) is searched
    # once, found faceless, and followed from then on.
    assert _who(tracker.faces(_scene(seated, seed=1, sway={0: (3, -2), 1: (-4, 1)})), known) == ["biden", "obama"]
    searched = tracker.searched_px
    for n, sway in enumerate([{0: (-2, 3), 1: (2, 4)}, {0: (4, 0), 1: (-3, -3)}, {0: (0, 1), 1: (1, 0)}], start=2):
        assert _who(tracker.faces(_scene(seated, seed=n, sway=sway)), known) == ["biden", "obama"]
    assert tracker.searched_px == searched  # each one's change is their own swaying: no search
    arrived = tracker.faces(_scene({**seated, 2: portraits["kit"]}, seed=9, sway={0: (1, 1), 1: (2, -1)}))
    assert _who(arrived, known) == ["biden", "kit", "obama"]  # someone new in the empty seat is found
    assert tracker.searched_px - searched < 1280 * 540 / 2  # by a search around that seat only


def test_a_full_search_encodes_only_the_faces_it_cannot_follow(people, monkeypatch):
    import monitor.faces.tracking as tracking

    portraits, known = people
    encoded: list[int] = []
    describe = tracking.describe

    def counted(picture, boxes):
        encoded.append(len(boxes))
        return describe(picture, boxes)

    monkeypatch.setattr(tracking, "describe", counted)
    tracker = FaceTracker(full_every=1)  # every moment searched in full
    assert _who(tracker.faces(_scene({0: portraits["obama"], 1: portraits["biden"]})), known) == ["biden", "obama"]
    assert encoded == [2]
    still = tracker.faces(_scene({0: portraits["obama"], 1: portraits["biden"]}, shift=3, seed=1))
    assert _who(still, known) == ["biden", "obama"] and encoded == [2, 0]  # both followed: found, not encoded
    swapped = tracker.faces(_scene({0: portraits["kit"], 1: portraits["biden"]}, shift=3, seed=2))
    assert _who(swapped, known) == ["biden", "kit"]  # Kit in the seat Obama left is encoded anew
    assert encoded[-1] == 1
    assert tracker.full_searches == 3
