"""Liveness from a burst (POLICY B4, GB/T 38671-2020): 3-5 frames over about 2 s while the learner
follows a prompt. A photo or a screen held up to the camera can be moved, turned and zoomed, but its
face cannot change shape; a live face does (blinks, speaks, turns). So the test is the motion of the
68 facial landmarks that is left after removing translation, scale and rotation (Procrustes).

Measured on ../shared/data: bursts of real video frames (short_hamilton_clip.mp4, 2 s, 5 frames)
move 0.022-0.032 (largest residual to the first frame, in units of the face's landmark spread); one
still shifted, scaled, turned and noised 0.004-0.006. The threshold sits between (profile:
liveness_min_motion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Liveness:
    live: bool
    motion: float  # largest non-rigid landmark motion against the first frame
    frames_with_face: int
    detail: str


def _landmarks_and_encoding(image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    import face_recognition  # heavy (dlib): imported where faces are used

    image = np.ascontiguousarray(image)
    boxes = face_recognition.face_locations(image, number_of_times_to_upsample=1)
    if not boxes:
        return None
    largest = [max(boxes, key=lambda b: b[2] - b[0])]
    marks = face_recognition.face_landmarks(image, largest)[0]
    points = np.array([p for part in marks.values() for p in part], dtype=np.float64)
    return points, np.asarray(face_recognition.face_encodings(image, largest)[0])


def non_rigid_motion(a: np.ndarray, b: np.ndarray) -> float:
    """RMS landmark displacement between two shapes after the best translation, scale and rotation."""
    a, b = a - a.mean(0), b - b.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    u, _, vt = np.linalg.svd(a.T @ b)
    return float(np.sqrt(((a @ (u @ vt) - b) ** 2).sum(1).mean()))


def burst_liveness(frames: list[np.ndarray], *, min_motion: float, tolerance: float, min_frames: int = 3) -> Liveness:
    found = [x for x in (_landmarks_and_encoding(f) for f in frames) if x is not None]
    if len(found) < min_frames:
        return Liveness(False, 0.0, len(found), f"a face in {len(found)} of {len(frames)} frames, {min_frames} needed")
    first_points, first_encoding = found[0]
    if any(np.linalg.norm(enc - first_encoding) > tolerance for _, enc in found[1:]):
        return Liveness(False, 0.0, len(found), "the face changes within the burst")
    motion = max(non_rigid_motion(first_points, points) for points, _ in found[1:])
    if motion < min_motion:
        return Liveness(False, motion, len(found), "the face moves only as a whole: a photo or a screen")
    return Liveness(True, motion, len(found), "a live face")
