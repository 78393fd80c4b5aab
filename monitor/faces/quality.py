"""Whether a face found in footage can be identified at all: big enough and sharp enough.

A face that matches nobody on the roster is either a stranger (visibility.unknown_person: a
stand-in?) or a face the footage cannot tell (visibility.unverifiable: 003 §19, footage that
cannot show who attended). The two need telling apart, since the first is about the people and
the second about the recording.

Sharpness: the face box, grey, resized to 64x64 (so faces of every size are compared at one
scale), smoothed with a Gaussian of sigma 1 (camera noise and compression grain otherwise read
as detail: with noise of sigma 3 the plain Laplacian of a heavily blurred face measured 90-180,
above a sharp one's) and the variance of its Laplacian taken. Measured on ../shared/data/faces
in a noisy 960x540 frame: sharp faces 41-120, faces blurred past matching 2-26.
"""

from __future__ import annotations

import cv2
import numpy as np

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


def identifiable(picture: np.ndarray, box: tuple[int, int, int, int], min_face_px: int, min_sharpness: float) -> bool:
    """Whether a face is one the roster match could have told: at least `min_face_px` high and
    at least `min_sharpness` sharp."""
    return box[2] - box[0] >= min_face_px and sharpness(picture, box) >= min_sharpness
