"""Platforms' face evidence: learners' person links and enrolment photos (versioned, never
overwritten), captures, and the challenges handed out. Everything is the platform's own: a
learner is found by (platform, the platform's id), so a platform naming another platform's
learner id reaches a learner of its own."""

from __future__ import annotations

import re
from typing import Any, Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from api.core.problems import Problem
from api.store.events import learner_of, mark_dirty
from api.store.organisations import person_hash
from api.store.replay import add_rows, photo_row
from models.tables import Capture, ChallengeRecord, Job, Learner, LearnerPhoto

_CHUNK = 500


def link_person(db: Session, organisation_id: str, ref: str, person_id: str, secret: bytes,
                delay_s: float = 0.0) -> tuple[Learner, Job | None]:
    """Give a learner its person (the real-name ID number, kept only as a keyed hash). Set once:
    a learner whose person is known cannot be moved to another person (409): that would carry
    its sessions into another person's judging. The caller commits."""
    learner = learner_of(db, organisation_id, ref)
    hashed = person_hash(secret, person_id)
    if learner.person_hash == hashed:
        return learner, None
    if learner.person_hash is not None:
        raise Problem(409, f"learner {ref} is linked to another person already", "person-conflict")
    before = learner.subject
    learner.person_hash = hashed
    db.add(learner)
    db.flush()
    return learner, mark_dirty(db, [before, learner.subject], delay_s)


def add_learner_photo(db: Session, organisation_id: str, ref: str, stored_name: str, sha256: str) -> LearnerPhoto:
    """The next version of the learner's enrolment photo (the caller commits). Sessions judged
    before keep the version they were judged against until an inspector asks otherwise."""
    learner = learner_of(db, organisation_id, ref)
    latest = db.exec(select(func.max(LearnerPhoto.version)).where(LearnerPhoto.learner_id == learner.id)).one()
    row = LearnerPhoto(learner_id=learner.id, organisation_id=organisation_id, version=(latest or 0) + 1,
                       stored_name=stored_name, sha256=sha256)
    db.add(row)
    db.flush()
    add_rows(db, [photo_row(row)])  # the replay index: its face is found before the next judging
    return row


def photo_versions(db: Session, learner_ids: Iterable[str]) -> dict[str, list[LearnerPhoto]]:
    """Each learner's photos, oldest version first."""
    listed = sorted(set(learner_ids))
    out: dict[str, list[LearnerPhoto]] = {}
    for start in range(0, len(listed), _CHUNK):
        rows = db.exec(select(LearnerPhoto).where(LearnerPhoto.learner_id.in_(listed[start:start + _CHUNK]))  # type: ignore[attr-defined]
                       .order_by(LearnerPhoto.version)).all()
        for row in rows:
            out.setdefault(row.learner_id, []).append(row)
    return out


def add_capture(db: Session, organisation_id: str, capture_id: str, sha256: str, size: int) -> Capture:
    row = Capture(id=capture_id, organisation_id=organisation_id, sha256=sha256, size_bytes=size)
    db.add(row)
    return row


def own_captures(db: Session, organisation_id: str, ids: set[str]) -> set[str]:
    """Which of these capture ids this platform uploaded."""
    found: set[str] = set()
    listed = sorted(ids)
    for start in range(0, len(listed), _CHUNK):
        found.update(db.exec(select(Capture.id).where(Capture.organisation_id == organisation_id,
                                                      Capture.id.in_(listed[start:start + _CHUNK]))).all())  # type: ignore[attr-defined]
    return found


_NAME_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _plain_name(image: str) -> bool:
    """A relative name without a way out: parts of letters, digits, `._-`, none `.` or `..`."""
    return len(image) <= 200 and all(_NAME_PART.fullmatch(part) for part in image.split("/"))


def foreign_images(db: Session, organisation_id: str, events: Iterable[Any], face_checks: bool) -> dict[str, str]:
    """The images events name that this platform may not name, each with the first event naming
    it: a capture is named by the id POST /captures gave this platform, never a path into the
    server's files; with face checks on (the images are opened) never another platform's
    capture. One check for native events and xAPI statements alike."""
    named: dict[str, str] = {}
    for e in events:
        for image in ([e.image] if e.image else []) + (e.images or []):
            named.setdefault(image, e.id)
    unknown = {i for i in named if not _plain_name(i)}
    if face_checks and named:
        unknown |= set(named) - own_captures(db, organisation_id, set(named) - unknown)
    return {image: named[image] for image in sorted(unknown)}


def challenges_of(db: Session, learners: list[Learner]) -> list[ChallengeRecord]:
    """The challenges each learner's own platform handed out for it (a platform cannot hand
    out challenges that another platform's learner must answer)."""
    out: list[ChallengeRecord] = []
    by_org: dict[str, list[str]] = {}
    for learner in learners:
        by_org.setdefault(learner.organisation_id, []).append(learner.learner_ref)
    for org, refs in by_org.items():
        for start in range(0, len(refs), _CHUNK):
            out.extend(db.exec(select(ChallengeRecord).where(ChallengeRecord.organisation_id == org,
                                                             ChallengeRecord.learner.in_(refs[start:start + _CHUNK]))).all())  # type: ignore[attr-defined]
    return out


# Reads for the inspectors' pages (a flagged session's face evidence).

def capture_exists(db: Session, capture_id: str) -> bool:
    return db.get(Capture, capture_id) is not None


def stored_captures(db: Session, ids: Iterable[str]) -> set[str]:
    """Which of these capture ids were uploaded (by any platform: an inspector sees them all)."""
    listed = sorted(set(ids))
    found: set[str] = set()
    for start in range(0, len(listed), _CHUNK):
        found.update(db.exec(select(Capture.id).where(Capture.id.in_(listed[start:start + _CHUNK]))).all())  # type: ignore[attr-defined]
    return found


def learner_photo(db: Session, photo_id: str) -> LearnerPhoto | None:
    return db.get(LearnerPhoto, photo_id)


def same_person(db: Session, learner: Learner) -> list[str]:
    """The learner ids of one person on every platform (the learner alone without a person id)."""
    if not learner.person_hash:
        return [learner.id]
    return list(db.exec(select(Learner.id).where(Learner.person_hash == learner.person_hash)).all())


def hand_out(db: Session, organisation_id: str, made: Iterable[Any]) -> None:
    """Keep the challenges handed out, as the platform's own: only these may be answered."""
    for c in made:
        db.add(ChallengeRecord(organisation_id=organisation_id, learner=c.learner, session=c.session, at=c.at,
                               prompt=c.prompt, nonce=c.nonce))
