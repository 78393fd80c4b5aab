"""Face checks of online sessions (POLICY B4, B6): every face capture and kept photo is judged
against the learner's enrolment photo and against every earlier capture (any learner, any
session) for replays; a session without a capture near its start fails the live-face check.

Replays depend on what came before, so captures are judged in one global time order; the costly
part (finding and encoding the face) is done once per image file and kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import imagehash
import numpy as np

from monitor.errors import MonitorError, read_user_file
from monitor.faces.cache import FacesCache
from monitor.faces.captures import ReplayIndex, judge_faces
from monitor.faces.challenge import Challenge
from monitor.faces.copies import Keypoints, keypoints, shared_structure
from monitor.faces.detect import PORTRAIT_DETECT_SIDE, Face, faces_in
from monitor.faces.enrol import EncodingCache, Enrolled, enrol, load_rgb
from monitor.faces.held_up import frame_sides
from monitor.faces.liveness import burst_liveness, prompt_threshold
from monitor.findings import Finding, Severity
from monitor.online.events import LearningEvent
from monitor.online.rules import session_finding
from monitor.online.track import Track
from monitor.policy import Policy

CAPTURE_TYPES = ("face_capture", "photo_kept")
_SIDES_ZH = {"left": "左", "right": "右", "top": "上", "bottom": "下"}  # held-up edges, as the findings say them


class ReplayLookup(Protocol):
    """A replay index kept elsewhere (the service's, in its database: api/store/replay.py), which
    holds every capture and every enrolment photo, so that a capture is compared with the few
    stored faces near it instead of with everything ever taken."""

    def nearest_before(self, hash_: imagehash.ImageHash, e: LearningEvent, max_bits: int) -> tuple[str, int] | None:
        """The nearest enrolment photo, or usable capture taken before `e` (event order), within
        `max_bits`: (what it is, distance)."""

    def first_answer(self, nonce: str) -> str | None:
        """The id of the first capture event (event order) that carried `nonce`."""


class _Before:
    """judge_faces's index for one capture, asked of a ReplayLookup: what came before it."""

    def __init__(self, lookup: ReplayLookup, e: LearningEvent, max_bits: int) -> None:
        self._lookup, self._e, self._max_bits = lookup, e, max_bits

    def nearest(self, hash_: imagehash.ImageHash) -> tuple[str, int] | None:
        return self._lookup.nearest_before(hash_, self._e, self._max_bits)

    def add(self, hash_: imagehash.ImageHash, source: str) -> None:
        """Kept by the lookup's owner already."""


class FaceChecks:
    def __init__(self, policy: Policy, enrolment: dict[str, Path], images_dir: Path, cache: EncodingCache,
                 faces_cache: FacesCache | None = None, challenges: Sequence[Challenge] = (),
                 photo_key: Callable[[LearningEvent], str] | None = None, replay: ReplayLookup | None = None,
                 known_faces: dict[str, list[Face]] | None = None, enrolled: dict[str, Enrolled] | None = None) -> None:
        """`challenges`: those handed out (monitor.faces.challenge); a capture carrying a nonce must
        answer one of them, of its own session, near its moment, once; each of a session's
        challenges must be answered. `photo_key`: which entry of `enrolment` a capture is compared
        with (default: its learner); the service keys photos by learner and version, so that each
        session is compared with the version it was first judged against. `replay`: a replay index
        kept elsewhere, holding every capture and photo (then `others` of judge() is not needed,
        and `enrolment` need only hold the photos captures are compared with); `known_faces`: the
        faces of images (by the name events use) found before; `enrolled`: enrolment encodings
        found before, by the keys of `enrolment` (the photo is not read)."""
        self._policy = policy
        self._photo_key = photo_key or (lambda e: e.learner)
        self._challenge_of = {c.nonce: c for c in challenges}
        self._challenges_of: dict[tuple[str, str], list[Challenge]] = {}
        for c in challenges:
            self._challenges_of.setdefault((c.learner, c.session), []).append(c)
        self._faces_cache = faces_cache
        self._images_dir = images_dir
        known = enrolled or {}
        self._enrolled: dict[str, Enrolled] = {
            learner: known[learner] if learner in known else enrol(learner, learner, photo, cache, policy.enrolment_min_face_px)
            for learner, photo in enrolment.items()
        }
        self._replay = replay
        self._faces: dict[Path, list[Face]] = {}
        for image, faces in (known_faces or {}).items():
            self._faces[(images_dir / image).resolve()] = faces
        self._enrolment = enrolment
        self._enrolment_keys: dict[str, Keypoints] = {}
        self._last_picture: tuple[Path, np.ndarray] | None = None

    def judge(self, tracks: list[Track], others: Sequence[LearningEvent] = ()) -> dict[tuple[str, str], list[Finding]]:
        """Findings per session key, for every session of every learner in `tracks`.

        `others`: capture events of learners judged elsewhere (the server judges a few learners at
        a time); they are not judged here, but a capture here that copies an earlier one of theirs
        is a replay all the same."""
        p = self._policy
        out: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
        captures = sorted([(e, t) for t in tracks for e in t.events if e.type in CAPTURE_TYPES and (e.image or e.images)]
                          + [(e, None) for e in others if e.type in CAPTURE_TYPES and (e.image or e.images)],
                          key=lambda x: x[0].order_key)
        if self._replay is not None:
            captures = [(e, t) for e, t in captures if t is not None]
        index = ReplayIndex()
        if self._replay is None:
            for enrolled in self._enrolled.values():
                index.add_hex(enrolled.face_hash, f"enrolment photo of {enrolled.person}")
        answered: dict[str, str] = {}  # nonce -> id of the capture that answered it first
        failures: dict[tuple[str, str], list[str]] = {}  # session -> ids of its failed checks in a row
        for e, track in captures:
            if track is None:  # another learner's capture: only remembered
                first = (e.images or [e.image])[0]
                usable = [f for f in self._faces_of(first, e) if f.height_px >= p.capture_min_face_px]
                if len(usable) == 1:
                    index.add(usable[0].face_hash, first)
                if e.nonce:
                    answered.setdefault(e.nonce, e.id)
                continue
            run = failures.setdefault(track.key, [])
            if len(run) >= p.face_max_failures_in_row:
                out[track.key].append(session_finding(
                    track, "online.face_missing", e.epoch_s, e.epoch_s, events=[e.id], measured=len(run),
                    threshold=p.face_max_failures_in_row, message="refused", args={"type": e.type, "n": len(run)}))
                continue
            before = index if self._replay is None else _Before(self._replay, e, p.face_replay_max_bits)
            found = self._challenge_findings(e, track, answered) + self._capture_findings(e, track, before)
            out[track.key].extend(found)
            if any(f.severity == Severity.INVALIDATES for f in found):
                run.append(e.id)
                if len(run) == p.face_max_failures_in_row:
                    out[track.key].append(session_finding(
                        track, "online.face_attempts", e.epoch_s, e.epoch_s, events=list(run), measured=len(run),
                        threshold=p.face_max_failures_in_row, message="run", args={"n": len(run)}))
            else:
                run.clear()
        for track in tracks:
            starts = [e for e in track.events if e.type == "face_capture"
                      and e.epoch_s - track.start_s <= p.face_start_window_s]
            if not starts:
                out[track.key].append(session_finding(
                    track, "online.face_missing", track.start_s, track.start_s + p.face_start_window_s,
                    events=[track.events[0].id], threshold=p.face_start_window_s, message="no_start"))
            nonces = {e.nonce for e in track.events if e.type in CAPTURE_TYPES and e.nonce}
            for c in self._challenges_of.get((track.learner, track.session), []):
                moment = c.at.timestamp()
                if c.nonce not in nonces and moment <= track.end_s + p.challenge_window_s:
                    out[track.key].append(session_finding(
                        track, "online.face_missing", moment, moment, events=[], threshold=p.challenge_window_s,
                        message="unanswered", args={"at": f"{c.at.astimezone(track.start.tzinfo):%H:%M:%S}"}))
        return out

    def _challenge_findings(self, e: LearningEvent, track: Track, answered: dict[str, str]) -> list[Finding]:
        """A capture carrying a nonce answers a challenge handed out for its own session, near the
        challenge's moment, and is the first to answer it."""
        if not e.nonce:
            return []
        p = self._policy
        c = self._challenge_of.get(e.nonce)
        first = answered.setdefault(e.nonce, e.id) if self._replay is None else (self._replay.first_answer(e.nonce) or e.id)
        why: str | None = None
        rule, args = "online.face_replay", {"type": e.type}
        if c is None:
            why = "unknown_nonce"
        elif (c.learner, c.session) != (e.learner, e.session):
            why, args = "other_session", {**args, "session": c.session, "learner": c.learner}
        elif first != e.id:
            why, args = "answered", {**args, "event": first}
        elif abs(e.epoch_s - c.at.timestamp()) > p.challenge_window_s:
            rule = "online.face_missing"
            why, args = "late", {**args, "seconds": abs(e.epoch_s - c.at.timestamp())}
        if why is None:
            return []
        return [session_finding(track, rule, e.epoch_s, e.epoch_s, events=[e.id], threshold=p.challenge_window_s,
                                message=why, args=args, evidence={"nonce": e.nonce})]

    def _capture_findings(self, e: LearningEvent, track: Track, index: "ReplayIndex | _Before") -> list[Finding]:
        """The capture itself: the learner's own live face, not a copy."""
        p = self._policy
        enrolled = self._enrolled.get(self._photo_key(e))
        if enrolled is None:
            # B4: 无法进行人脸活体比对 -> 视同培训无效. A missing photo is missing evidence, never a pass.
            return [session_finding(
                track, "online.face_missing", e.epoch_s, e.epoch_s, events=[e.id], message="no_photo",
                args={"learner": e.learner})]
        frames = e.images or [e.image]
        judgement = judge_faces(frames[0], self._faces_of(frames[0], e), enrolled, index,
                                tolerance=p.face_match_tolerance, min_face_px=p.capture_min_face_px,
                                replay_max_bits=p.face_replay_max_bits)
        if not judgement.passed:
            return [session_finding(
                track, judgement.rule, e.epoch_s, e.epoch_s, events=[e.id], severity=judgement.severity,
                measured=None if judgement.distance is None else round(judgement.distance, 4),
                threshold=p.face_match_tolerance, message=judgement.message, args={"type": e.type, **judgement.args},
                evidence={"image": e.image, "replay_of": judgement.replay_of,
                          "hash_distance": judgement.hash_distance})]
        picture = self._picture(frames[0], e)
        if picture is None:
            return []
        shared = shared_structure(keypoints(picture), self._enrolment_keypoints(self._photo_key(e)))
        if shared >= p.face_copy_min_matches:
            return [session_finding(
                track, "online.face_replay", e.epoch_s, e.epoch_s, events=[e.id], measured=shared,
                threshold=p.face_copy_min_matches, message="enrolment_cut", args={"type": e.type},
                evidence={"image": frames[0], "replay_of": f"enrolment photo of {enrolled.person}"})]
        found = []
        held_up = self._held_up(e, frames[0], picture)
        if held_up:
            found.append(session_finding(
                track, "online.face_not_live", e.epoch_s, e.epoch_s, events=[e.id], severity=Severity.REVIEW,
                measured=len(held_up), threshold=p.held_up_min_sides,
                message="held_up", args={"type": e.type, "sides": ", ".join(held_up),
                                         "sides_zh": "、".join(_SIDES_ZH.get(side, side) for side in held_up)},
                evidence={"image": frames[0], "sides": held_up}))
        if e.type == "face_capture":
            liveness = self._liveness(e, frames, picture)
            if liveness is not None:
                measured, threshold, why, args = liveness
                found.append(session_finding(
                    track, "online.face_not_live", e.epoch_s, e.epoch_s, events=[e.id],
                    measured=measured, threshold=threshold, message=why, args={"type": e.type, **args},
                    evidence={"images": frames, "prompt": self._prompt_of(e)}))
        return found

    def _prompt_of(self, e: LearningEvent) -> str | None:
        """What the capture was asked to show: its challenge's prompt, when it answers one of its own session."""
        c = self._challenge_of.get(e.nonce) if e.nonce else None
        return c.prompt if c is not None and (c.learner, c.session) == (e.learner, e.session) else None

    def _picture(self, image: str, e: LearningEvent) -> np.ndarray | None:
        """The capture's picture: the one just decoded to find its faces, or decoded now (its faces
        came from the cache). Decoding a phone's photo costs as much as the checks on it."""
        path = (self._images_dir / image).resolve()
        if self._last_picture is not None and self._last_picture[0] == path:
            return self._last_picture[1]
        try:
            return load_rgb(path, f"image of event {e.id}")
        except MonitorError:
            return None

    def _enrolment_keypoints(self, learner: str) -> Keypoints:
        if learner not in self._enrolment_keys:
            self._enrolment_keys[learner] = keypoints(load_rgb(self._enrolment[learner], f"enrolment photo of {learner}"))
        return self._enrolment_keys[learner]

    def _held_up(self, e: LearningEvent, image: str, picture: np.ndarray) -> list[str]:
        """The sides of the capture's face framed by straight edges, when enough of them are."""
        p = self._policy
        faces = [f for f in self._faces_of(image, e) if f.height_px >= p.capture_min_face_px]
        if len(faces) != 1:
            return []
        sides = frame_sides(picture, faces[0].box, reach=p.held_up_reach, min_length=p.held_up_min_length)
        return sides if len(sides) >= p.held_up_min_sides else []

    def _faces_of(self, image: str, e: LearningEvent) -> list[Face]:
        """The faces of an event's image, found once per image file; an unreadable image has none."""
        path = (self._images_dir / image).resolve()
        if path not in self._faces:
            key = self._faces_cache.key_of(path) if self._faces_cache and path.is_file() else None
            found = self._faces_cache.get(key) if self._faces_cache and key else None
            if found is None:
                try:
                    picture = load_rgb(path, f"image of event {e.id}")
                    self._last_picture = (path, picture)  # the copy and held-up checks look at it next
                    found = faces_in(picture, detect_max_side=PORTRAIT_DETECT_SIDE)
                except MonitorError:
                    found = []
                if self._faces_cache and key:
                    self._faces_cache.put(key, found)
            self._faces[path] = found
        return self._faces[path]

    def _liveness(self, e: LearningEvent, frames: list[str], first: np.ndarray
                  ) -> tuple[float | None, float, str, dict[str, Any]] | None:
        """Why a capture does not show a live face ((measured, threshold, message, its arguments)), or None when it
        does. A still alone cannot show it: under `face_liveness = "burst"` it fails; under "still"
        it is accepted. A burst answering a challenge must show the challenge's prompt. `first`:
        the first frame, decoded already."""
        p = self._policy
        if len(frames) < 2:
            return None if p.face_liveness == "still" else (None, p.liveness_min_motion, "still", {})
        try:
            pictures = [first] + [load_rgb((self._images_dir / f).resolve(), f"image of event {e.id}") for f in frames[1:]]
        except MonitorError as exc:
            return None, p.liveness_min_motion, "unreadable", {"why": str(exc)}
        prompt = self._prompt_of(e)
        result = burst_liveness(pictures, p, prompt)
        if result.live:
            return None
        if result.prompt_change is not None and prompt is not None:
            return result.prompt_change, prompt_threshold(prompt, p), result.message, result.args
        return round(result.motion, 4), p.liveness_min_motion, result.message, result.args


def load_enrolment(path: Path) -> dict[str, Path]:
    """ENROL.json: {"LEARNER": "photo path relative to the file"}."""
    text = read_user_file(path, "enrolment map")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MonitorError(f"enrolment map {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise MonitorError(f"enrolment map {path} must map learner ids to photo paths")
    return {learner: (path.parent / photo) for learner, photo in data.items()}
