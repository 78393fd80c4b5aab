"""Liveness from a burst (POLICY B4, GB/T 38671-2020): 3-5 frames over about 2 s while the learner
follows a prompt. A photo or a screen held up to the camera can be moved, turned and zoomed, but its
face cannot change shape; a live face does (blinks, speaks, turns). So the test is the motion of the
68 facial landmarks that is left after removing translation, scale and rotation (Procrustes).

Measured on ../shared/data: bursts of real video frames (short_hamilton_clip.mp4, 2 s, 5 frames)
move 0.022-0.032 (largest residual to the first frame, in units of the face's landmark spread); one
still shifted, scaled, turned and noised 0.004-0.006. The threshold sits between (profile:
liveness_min_motion).

A burst answering a challenge must also show the challenge's prompt (turn_left, turn_right,
open_mouth): a recording of someone moving, played to the camera, shows motion but most often not
the one asked for. Each prompt is one measure on the landmarks, compared with the burst's first
frame (the learner starts facing the camera): the lips' inner gap over the mouth's width, and the
nose tip's place between the jaw's ends (left and right as the learner's own, in an unmirrored
camera image). Thresholds: the profile's liveness_* values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.policy import Policy

# Only prompts whose measure was seen to work on real footage: a nod's measure moved as much when
# the head only turned, and a blink lasts 0.1-0.4 s, which a burst of 5 frames over 2 s mostly misses.
PROMPTS = ("turn_left", "turn_right", "open_mouth")
PROMPTS_ZH = {"turn_left": "向左转头", "turn_right": "向右转头", "open_mouth": "张嘴"}  # as the findings say them


@dataclass(frozen=True)
class Liveness:
    live: bool
    motion: float  # largest non-rigid landmark motion against the first frame
    frames_with_face: int
    detail: str
    prompt_change: float | None = None  # the prompt's measure, largest change that way (None: no prompt)
    message: str = ""  # online.face_not_live's message (monitor.findings) when not live, and its arguments
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FaceShape:
    """One frame's face: its 68 landmarks as points, and the named parts face_recognition gives."""

    points: np.ndarray
    parts: dict[str, np.ndarray]
    encoding: np.ndarray


def _face_shape(image: np.ndarray) -> FaceShape | None:
    import face_recognition  # heavy (dlib): imported where faces are used

    image = np.ascontiguousarray(image)
    boxes = face_recognition.face_locations(image, number_of_times_to_upsample=1)
    if not boxes:
        return None
    largest = [max(boxes, key=lambda b: b[2] - b[0])]
    marks = face_recognition.face_landmarks(image, largest)[0]
    parts = {name: np.array(points, dtype=np.float64) for name, points in marks.items()}
    return FaceShape(np.concatenate(list(parts.values())), parts,
                     np.asarray(face_recognition.face_encodings(image, largest)[0]))


def non_rigid_motion(a: np.ndarray, b: np.ndarray) -> float:
    """RMS landmark displacement between two shapes after the best translation, scale and rotation."""
    a, b = a - a.mean(0), b - b.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    u, _, vt = np.linalg.svd(a.T @ b)
    return float(np.sqrt(((a @ (u @ vt) - b) ** 2).sum(1).mean()))


def nose_across(parts: dict[str, np.ndarray]) -> float:
    """Where the nose tip sits between the jaw's two ends, across the image: about 0.5 for a face
    looking at the camera, towards 0 or 1 as the head turns. One measure of a head's turn, used by
    the turn prompts here and by monitor/faces/quality.py (a face turned too far to identify)."""
    chin, nose = parts["chin"], parts["nose_tip"].mean(0)
    return float((nose[0] - chin[0][0]) / (chin[16][0] - chin[0][0]))


def prompt_measure(prompt: str, face: FaceShape) -> float:
    """The one number the prompt moves, signed so that doing the prompt makes it grow."""
    p = face.parts
    if prompt == "open_mouth":
        top, bottom = p["top_lip"], p["bottom_lip"]
        return float(np.linalg.norm(top[8:11].mean(0) - bottom[8:11].mean(0)) / np.linalg.norm(top[0] - top[6]))
    if prompt in ("turn_left", "turn_right"):
        across = nose_across(p)
        # the learner's left is the image's right, for a camera that faces them
        return across if prompt == "turn_left" else -across
    raise ValueError(f"unknown prompt {prompt!r}; known: {', '.join(PROMPTS)}")


def prompt_change(prompt: str, faces: list[FaceShape]) -> float:
    """How far the burst moved the prompt's measure its way from the first frame."""
    first = prompt_measure(prompt, faces[0])
    return max(prompt_measure(prompt, f) - first for f in faces[1:])


def prompt_threshold(prompt: str, policy: Policy) -> float:
    return policy.liveness_mouth_open if prompt == "open_mouth" else policy.liveness_turn


def burst_liveness(frames: list[np.ndarray], policy: Policy, prompt: str | None = None, min_frames: int = 3) -> Liveness:
    """A live face: the same person in at least `min_frames` frames, moving beyond moving as a
    whole, and (answering a challenge) doing what the prompt asked."""
    found = [face for face in (_face_shape(f) for f in frames) if face is not None]
    if len(found) < min_frames:
        return Liveness(False, 0.0, len(found), f"a face in {len(found)} of {len(frames)} frames, {min_frames} needed",
                        message="frames", args={"found": len(found), "frames": len(frames), "needed": min_frames})
    first = found[0]
    # Frame to frame, with the profile's looser bound: a head turning (as a prompt asks) is encoded
    # farther from itself than a frontal capture from the enrolment photo (matched separately).
    if any(np.linalg.norm(b.encoding - a.encoding) > policy.liveness_same_face_max for a, b in zip(found, found[1:])):
        return Liveness(False, 0.0, len(found), "the face changes within the burst", message="changes")
    motion = max(non_rigid_motion(first.points, face.points) for face in found[1:])
    if motion < policy.liveness_min_motion:
        return Liveness(False, motion, len(found), "the face moves only as a whole: a photo or a screen", message="rigid")
    if prompt is None:
        return Liveness(True, motion, len(found), "a live face")
    change = prompt_change(prompt, found)
    if change < prompt_threshold(prompt, policy):
        return Liveness(False, motion, len(found), f"the face moves, but not as asked ({prompt})", round(change, 4),
                        message="not_as_asked", args={"prompt": prompt, "prompt_zh": PROMPTS_ZH.get(prompt, prompt)})
    return Liveness(True, motion, len(found), f"a live face, as asked ({prompt})", round(change, 4))
