"""Judging a face capture of an online learner (POLICY B4, B6): is there one usable face, is it
the enrolled learner, and is it new?

Replays are found by perceptual hashes of the *aligned face* (see detect), not of the whole
picture and not by exact bytes: a re-sent, re-compressed, resized or slightly cropped copy of an
earlier capture (or of the enrolment photo itself) keeps the same face and so nearly the same hash,
while a genuine new capture of the same person differs in pose, light and expression. GB/T 38671-2020
asks that a capture cannot be reused; the nonce of a challenge (a later slice) adds the same
guarantee by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

import imagehash
import numpy as np

from monitor.faces.detect import PORTRAIT_DETECT_SIDE, Face, faces_in
from monitor.errors import MonitorError
from monitor.faces.enrol import Enrolled, load_rgb
from monitor.findings import Severity


@dataclass
class ReplayIndex:
    """Face hashes of every capture and enrolment photo seen so far (any learner, any session)."""

    entries: list[tuple[imagehash.ImageHash, str]] = field(default_factory=list)

    def add(self, hash_: imagehash.ImageHash, source: str) -> None:
        self.entries.append((hash_, source))

    def add_hex(self, hex_hash: str, source: str) -> None:
        self.add(imagehash.hex_to_hash(hex_hash), source)

    def nearest(self, hash_: imagehash.ImageHash) -> tuple[str, int] | None:
        if not self.entries:
            return None
        source, distance = min(((s, hash_ - h) for h, s in self.entries), key=lambda x: x[1])
        return source, int(distance)


@dataclass(frozen=True)
class CaptureJudgement:
    """What one capture showed. `rule` is None when it passed; platforms learn only pass / fail
    and the rule (GB/T 38671-2020 6.1.6.6): distances are for inspectors."""

    capture: str
    rule: str | None
    severity: Severity | None
    detail: str
    distance: float | None = None  # to the enrolment encoding
    replay_of: str | None = None
    hash_distance: int | None = None
    message: str = ""  # the name of the finding's message (monitor.findings, under `rule`) and its arguments
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.rule is None


def judge_capture(capture: Path, enrolled: Enrolled, index: ReplayIndex, *, tolerance: float, min_face_px: int,
                  replay_max_bits: int) -> CaptureJudgement:
    """Judge one capture against the learner's enrolment, then remember it for later replays."""
    try:
        faces = faces_in(load_rgb(capture, f"capture of {enrolled.person}"), detect_max_side=PORTRAIT_DETECT_SIDE)
    except MonitorError as exc:
        return CaptureJudgement(str(capture), "online.face_missing", Severity.INVALIDATES, str(exc),
                                message="unreadable", args={"why": str(exc)})
    return judge_faces(str(capture), faces, enrolled, index, tolerance=tolerance, min_face_px=min_face_px,
                       replay_max_bits=replay_max_bits)


def judge_faces(name: str, found: list[Face], enrolled: Enrolled, index: ReplayIndex, *, tolerance: float,
                min_face_px: int, replay_max_bits: int) -> CaptureJudgement:
    """judge_capture for faces already found in the capture (finding them is the costly part)."""
    faces = [f for f in found if f.height_px >= min_face_px]
    if not faces:
        return CaptureJudgement(name, "online.face_missing", Severity.INVALIDATES, "no usable face in the capture",
                                message="no_face")
    if len(faces) > 1:
        return CaptureJudgement(name, "online.face_mismatch", Severity.REVIEW,
                                f"{len(faces)} faces in the capture: who is learning?", message="several",
                                args={"n": len(faces)})
    face = faces[0]
    distance = float(np.linalg.norm(face.encoding - enrolled.encoding))
    earlier = index.nearest(face.face_hash)
    to_enrolment = int(face.face_hash - imagehash.hex_to_hash(enrolled.face_hash))
    index.add(face.face_hash, name)
    if to_enrolment <= replay_max_bits:
        return CaptureJudgement(name, "online.face_replay", Severity.INVALIDATES, "the enrolment photo sent as a capture",
                                distance, f"enrolment photo of {enrolled.person}", to_enrolment, message="enrolment")
    if earlier is not None and earlier[1] <= replay_max_bits:
        return CaptureJudgement(name, "online.face_replay", Severity.INVALIDATES, f"a copy of the earlier capture {earlier[0]}",
                                distance, earlier[0], earlier[1], message="copy", args={"earlier": earlier[0]})
    if distance > tolerance:
        return CaptureJudgement(name, "online.face_mismatch", Severity.INVALIDATES,
                                "the face is not the enrolled learner's", distance, message="other")
    return CaptureJudgement(name, None, None, "the enrolled learner, live capture", distance)
