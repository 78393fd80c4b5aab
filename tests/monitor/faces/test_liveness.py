"""Liveness on real frames: a burst of live video moves, a still moved about does not."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from monitor.faces.enrol import load_rgb
from monitor.faces.liveness import burst_liveness
from monitor.policy import load_policy

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022")


@pytest.fixture(scope="module")
def hamilton(shared_data):
    with av.open(str(shared_data / "videos" / "short_hamilton_clip.mp4")) as container:
        return [(float(f.time), np.ascontiguousarray(f.to_ndarray(format="rgb24"))) for f in container.decode(video=0)]


def _judge(frames, prompt=None):
    return burst_liveness(frames, POLICY, prompt)


@pytest.mark.parametrize("start", [3.9, 4.4, 4.9])  # one shot: the clip cuts to the audience at 7.0 s
def test_a_burst_of_live_video_is_live(hamilton, start):
    burst = [img for t, img in hamilton if start <= t <= start + 2.0][::12]
    result = _judge(burst)
    assert result.live, result
    assert result.motion >= POLICY.liveness_min_motion


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_still_shifted_turned_and_noised_is_not_live(hamilton, seed):
    still = next(img for t, img in hamilton if t >= 5.1)
    rng = np.random.default_rng(seed)
    burst = [still]
    for _ in range(4):
        turn = cv2.getRotationMatrix2D((320, 180), rng.uniform(-2, 2), rng.uniform(0.97, 1.03))
        turn[:, 2] += rng.integers(-6, 7, 2)
        moved = cv2.warpAffine(still, turn, (still.shape[1], still.shape[0]))
        burst.append(np.clip(moved + rng.normal(0, 3, moved.shape), 0, 255).astype(np.uint8))
    result = _judge(burst)
    assert not result.live and "as a whole" in result.detail


def test_frames_of_different_people_are_not_one_live_face(shared_data):
    faces = shared_data / "faces"
    burst = [load_rgb(faces / p, "x") for p in ("obama/1.jpg", "biden/1.jpg", "obama/4.jpg")]
    assert _judge(burst).detail == "the face changes within the burst"


def _burst(hamilton, start):
    return [img for t, img in hamilton if start <= t <= start + 2.0][::12]


@pytest.mark.parametrize(("start", "shown", "not_shown"), [
    (3.8, "turn_right", "turn_left"),  # the speaker turns to his right (the image's left)
    (4.8, "turn_left", "turn_right"),  # and back, past the front, to his left
    (4.2, "open_mouth", "turn_right"),  # talking, the head turning little that way
])
def test_a_live_burst_shows_the_prompted_motion_and_not_another(hamilton, start, shown, not_shown):
    burst = _burst(hamilton, start)
    asked = _judge(burst, shown)
    assert asked.live and asked.prompt_change >= POLICY.liveness_turn, asked
    other = _judge(burst, not_shown)
    assert not other.live and other.detail == f"the face moves, but not as asked ({not_shown})", other
    assert other.motion >= POLICY.liveness_min_motion  # live, but not doing what was asked


def test_an_unknown_prompt_is_refused():
    from monitor.faces.liveness import FaceShape, prompt_measure

    with pytest.raises(ValueError, match="unknown prompt 'dance'"):
        prompt_measure("dance", FaceShape(np.zeros((68, 2)), {}, np.zeros(128)))
