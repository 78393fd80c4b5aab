"""Who is in the picture (POLICY A3, A4): at check moments every `check_interval_s` of each class
hour, on valid footage only, faces are found and matched to the roster's enrolment photos.

Per hour: who was seen and how often, who never was, unknown faces per moment, and the headcount
series whose mean is the subsidisable headcount (培训人数以实地检查在位平均人数为准).

A face matching nobody is one of two things (#17): a stranger, identifiable but not on the roster
(`unknown`: visibility.unknown_person, a stand-in?), or a face the footage cannot tell, too small,
too blurred or turned too far away (`unidentifiable`, monitor/faces/quality.py). The second at more than
`unidentifiable_max_share` of the hour's check moments makes the hour visibility.unverifiable:
the footage cannot show the people attending (003 §19), a fault of the recording, not of the class.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel

from monitor.faces.tracking import FaceTracker
from monitor.faces.enrol import Enrolled
from monitor.faces.quality import identifiable
from monitor.findings import Finding, Severity, finding
from monitor.footage.media import frame_rgb
from monitor.footage.placed import PlacedFile
from monitor.policy import Policy


class Moment(BaseModel):
    at: datetime
    present: list[str]  # trainee ids identified
    unknown: int  # identifiable faces matching nobody on the roster (strangers)
    unidentifiable: int = 0  # faces found but too small, blurred or turned away to tell who they are
    evidence: str | None = None  # JPEG (faces boxed and named) in the evidence folder, for a few moments


class Visibility(BaseModel):
    moments: list[Moment]
    seen: dict[str, int]  # trainee id -> moments seen
    missing: list[str]  # trainee ids seen fewer than min_sightings_per_hour times
    without_photo: list[str]  # trainee ids that cannot be identified (no enrolment photo)
    headcount_mean: float | None
    roster_size: int


def identify(encodings: list[np.ndarray], roster: list[Enrolled], tolerance: float) -> list[str | None]:
    """The trainee each face is (None: nobody on the roster), closest pairs first, each trainee
    and face at most once."""
    labels: list[str | None] = [None] * len(encodings)
    if not encodings or not roster:
        return labels
    known = np.stack([r.encoding for r in roster])
    distances = np.linalg.norm(np.stack(encodings)[:, None, :] - known[None, :, :], axis=2)
    for _, face, trainee in sorted((d, f, t) for (f, t), d in np.ndenumerate(distances) if d <= tolerance):
        if labels[face] is None and roster[trainee].person not in labels:
            labels[face] = roster[trainee].person
    return labels


def _evidence_picture(picture: np.ndarray, boxes: list[tuple[int, int, int, int]], labels: list[str | None],
                      readable: list[bool]) -> np.ndarray:
    """The frame with every face boxed: green and the trainee id when identified, red and ? for a
    stranger, orange and ~ for a face too small, blurred or turned away to identify."""
    image = cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)
    for (top, right, bottom, left), label, ok in zip(boxes, labels, readable):
        colour = (0, 200, 0) if label else (0, 0, 230) if ok else (0, 140, 255)
        cv2.rectangle(image, (left, top), (right, bottom), colour, 2)
        cv2.putText(image, label or ("?" if ok else "~"), (left, max(12, top - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1,
                    cv2.LINE_AA)
    return image


def _nearest_keyframe(source: PlacedFile, t: float, within_s: float, runs: list[tuple[float, float]]) -> float:
    """The keyframe nearest the moment t (wall) within `within_s` and in valid footage, else t: a
    keyframe decodes alone, where a moment between keyframes of a 10-s GOP costs 5 s of frames on
    average (125 decoded 1080p frames), so faces cost no more on a long GOP than on a short one."""
    keys = source.timeline.keyframe_times_s
    if keys.size == 0:
        return t
    walls = keys + (source.wall(0.0))
    near = walls[np.abs(walls - t) <= within_s]
    near = near[[any(a <= w < b for a, b in runs) for w in near]] if near.size else near
    return float(near[np.argmin(np.abs(near - t))]) if near.size else t


def check_hour(start: datetime, end: datetime, runs: list[tuple[float, float]], files: list[PlacedFile],
               roster: list[Enrolled], without_photo: list[str], names: dict[str, str], policy: Policy,
               evidence: Path | None = None, hour_index: int = 0) -> tuple[Visibility, list[Finding]]:
    """Visibility of one class hour; `runs` are its valid footage (wall epoch seconds). With an
    `evidence` folder, the frames of a few moments are kept there as JPEG: the first, the one
    with the fewest trainees and the one with the most unknown faces."""
    step = policy.check_interval_s
    h0, h1 = start.timestamp(), end.timestamp()
    moments: list[Moment] = []
    pictures: dict[int, np.ndarray] = {}  # moment index -> boxed frame, only the few kept
    tracker = FaceTracker()  # one camera: faces found once are followed from moment to moment
    t = h0 + step / 2
    while t < h1:
        source = next((pf for pf in files if pf.wall_begin <= t < pf.wall_end), None)
        if source is not None and any(a <= t < b for a, b in runs):
            at = _nearest_keyframe(source, t, step / 2, runs)
            picture = frame_rgb(source.path, source.media(at))
            if picture is not None:
                faces = tracker.faces(picture)
                labels = identify([f.encoding for f in faces], roster, policy.face_match_tolerance)
                readable = [label is not None or identifiable(picture, f.box, policy.identifiable_min_face_px,
                                                              policy.identifiable_min_sharpness, policy.identifiable_max_turn)
                            for f, label in zip(faces, labels)]
                moments.append(Moment(at=datetime.fromtimestamp(at, start.tzinfo), present=sorted(x for x in labels if x),
                                      unknown=sum(label is None and ok for label, ok in zip(labels, readable)),
                                      unidentifiable=readable.count(False)))
                if evidence is not None:
                    pictures[len(moments) - 1] = _evidence_picture(picture, [f.box for f in faces], labels, readable)
                    keep = _evidence_moments(moments)
                    pictures = {k: v for k, v in pictures.items() if k in keep}
        t += step
    for k, picture in pictures.items():
        name = f"hour{hour_index:02d}-{moments[k].at:%H%M%S}.jpg"
        evidence.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(evidence / name), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
        moments[k] = moments[k].model_copy(update={"evidence": name})
    seen = {r.person: sum(r.person in m.present for m in moments) for r in roster}
    missing = sorted(p for p, n in seen.items() if n < policy.min_sightings_per_hour)
    mean = float(np.mean([len(m.present) for m in moments])) if moments else None
    size = len(roster) + len(without_photo)
    visibility = Visibility(moments=moments, seen=seen, missing=missing, without_photo=without_photo,
                            headcount_mean=None if mean is None else round(mean, 3), roster_size=size)
    found = []
    if missing:
        # A trainee not seen lowers the headcount and is for review; it voids nothing (003 §19 refuses
        # footage that cannot show the people attending, not a class with someone absent: #17).
        severity = Severity.REVIEW
        never = ", ".join(f"{p} {names.get(p, '')}".strip() for p in missing) or "—"
        found.append(finding(
            "visibility.trainee_missing", severity=severity, start=start, end=end, measured=len(missing),
            threshold=policy.min_sightings_per_hour, message="never_seen",
            args={"never": never, "without_photo": ", ".join(without_photo)},
            evidence={"missing": [{"id": p, "name": names.get(p, "")} for p in missing], "without_photo": without_photo,
                      "moments": len(moments)}))
    if without_photo:
        # Missing evidence is a finding (#14): a trainee without a photo cannot be identified, so
        # the footage cannot show that they attended; it invalidates where every trainee must be seen.
        who = ", ".join(f"{p} {names.get(p, '')}".strip() for p in without_photo)
        found.append(finding(
            "visibility.unverifiable", start=start, end=end, measured=len(without_photo), threshold=0,
            severity=Severity.INVALIDATES if policy.all_trainees_visible else Severity.REVIEW,
            message="some_without_photo", args={"n": len(without_photo), "size": size, "who": who},
            evidence={"without_photo": [{"id": p, "name": names.get(p, "")} for p in without_photo]}))
    unreadable = [m for m in moments if m.unidentifiable]
    if moments and len(unreadable) / len(moments) > policy.unidentifiable_max_share:
        share = len(unreadable) / len(moments)
        found.append(finding(
            "visibility.unverifiable", start=start, end=end, measured=round(share, 4), threshold=policy.unidentifiable_max_share,
            severity=Severity.INVALIDATES if policy.all_trainees_visible else Severity.REVIEW,
            message="unidentifiable", args={"n": len(unreadable), "moments": len(moments), "share": share},
            evidence={"moments": [m.at.isoformat() for m in unreadable],
                      "faces": [m.unidentifiable for m in unreadable],
                      "min_face_px": policy.identifiable_min_face_px, "min_sharpness": policy.identifiable_min_sharpness,
                      "max_turn": policy.identifiable_max_turn}))
    if mean is not None and mean < size:
        found.append(finding(
            "visibility.headcount", start=start, end=end, measured=round(mean, 3), threshold=size,
            message="mean", args={"mean": mean, "size": size, "checks": len(moments)},
            evidence={"series": [len(m.present) for m in moments]}))
    return visibility, found


def _evidence_moments(moments: list[Moment]) -> set[int]:
    """Which moments' frames an inspector most needs: the first, the emptiest, the most unknown."""
    emptiest = min(range(len(moments)), key=lambda k: (len(moments[k].present), k))
    strangest = max(range(len(moments)), key=lambda k: (moments[k].unknown + moments[k].unidentifiable, -k))
    return {0, emptiest, strangest}
