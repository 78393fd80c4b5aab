"""Whether a face found in footage can be identified at all: big enough, sharp enough, and facing
the camera enough.

A face that matches nobody on the roster is either a stranger (visibility.unknown_person: a
stand-in?) or a face the footage cannot tell (visibility.unverifiable: 003 §19, footage that
cannot show who attended). The two need telling apart, since the first is about the people and
the second about the recording.

Sharpness: the face box, grey, resized to 64x64 (so faces of every size are compared at one
scale), smoothed with a Gaussian of sigma 1 (camera noise and compression grain otherwise read
as detail: with noise of sigma 3 the plain Laplacian of a heavily blurred face measured 90-180,
above a sharp one's) and the variance of its Laplacian taken. Measured on ../shared/data/faces
in a noisy 960x540 frame: sharp faces 41-120, faces blurred past matching 2-26.

Turn: a face turned away from the camera is detected (dlib's HOG detector has filters for faces
looking aside) but shows the roster match too little of itself to call a non-match a stranger.
Measured from the 68 landmarks as the liveness turn prompts measure it (monitor/faces/liveness.py
nose_across): |2 x across - 1|, 0 facing the camera, 1 the nose at the jaw's end. On
../shared/data: the still photos of the four people the match tolerance was measured on 0.02-0.44;
the real clip's speaker facing the camera 0.01-0.17, his head turned three-quarters away 0.55-0.66
(0.44-0.70 once placed in a noisy classroom frame); a profile is not detected at all (there the
on-site count, monitor/attendance.py, tells the camera missed people). Threshold: the profile's
identifiable_max_turn.
"""

from __future__ import annotations

import cv2
import numpy as np

from monitor.faces.liveness import nose_across

_SIDE = 64


def sharpness(picture: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Detail left in the face box (top, right, bottom, left) of an RGB picture (see the module)."""
    top, right, bottom, left = box
    crop = picture[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    if crop.size == 0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 1.0), cv2.CV_64F).var())


def turn(picture: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How far the face in the box (top, right, bottom, left) of an RGB picture is turned from the
    camera: 0 facing it, 1 the nose at the jaw's end (see the module)."""
    import face_recognition  # heavy (dlib): imported where faces are used

    marks = face_recognition.face_landmarks(np.ascontiguousarray(picture), [box])[0]
    parts = {name: np.array(points, dtype=np.float64) for name, points in marks.items()}
    if parts["chin"][16][0] == parts["chin"][0][0]:  # the jaw seen edge-on: as turned as it gets
        return 1.0
    return abs(2 * nose_across(parts) - 1)


def identifiable(picture: np.ndarray, box: tuple[int, int, int, int], min_face_px: int, min_sharpness: float,
                 max_turn: float) -> bool:
    """Whether a face is one the roster match could have told: at least `min_face_px` high, at
    least `min_sharpness` sharp and turned from the camera at most `max_turn` (cheapest first)."""
    return (box[2] - box[0] >= min_face_px and sharpness(picture, box) >= min_sharpness
            and turn(picture, box) <= max_turn)
