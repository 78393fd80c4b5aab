"""Retention of face images (issue #20): captures, kept photos and enrolment photos are sensitive
personal data. Past the retention period of the platform's jurisdiction (the profile in force:
`image_retention_days`), an image is deleted with the encodings of its faces; its perceptual
hash stays in the replay index (so a replay of it is still found) and the verdicts stay. An image
of a session flagged and not yet decided by an inspector is held until it is. Every deletion
is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import func, literal, select as sa_select, tuple_
from sqlmodel import Session, select

from api.store.organisations import PolicyBook, jurisdiction_of
from models.tables import (AuditEntry, Capture, Decision, FaceHash, Flag, ImageFace, LearnerPhoto, LearnerSession,
                           Organisation, SessionState)
from models.types import utcnow

_CHUNK = 400
ACTOR = "retention job"


@dataclass(frozen=True)
class Due:
    """An image past its jurisdiction's retention period."""

    image: str  # path under the storage root
    kind: str  # capture | photo
    organisation_id: str
    sha256: str
    created_at: datetime
    jurisdiction: str
    retention_days: int


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def cutoffs(db: Session, default_jurisdiction: str, now: datetime) -> dict[str, tuple[datetime, str, int]]:
    """Per platform: the instant before which its images are past retention, its jurisdiction and
    the period (the profile in force today, with the authority's overrides)."""
    book = PolicyBook(db)
    out = {}
    for org in db.exec(select(Organisation)).all():
        name = jurisdiction_of(org, default_jurisdiction)
        days = book.judged_by(name, now.date()).policy().image_retention_days
        out[org.id] = (now - timedelta(days=days), name, days)
    return out


def due(db: Session, default_jurisdiction: str, now: datetime | None = None, limit: int = 1000,
        after: datetime | None = None) -> list[Due]:
    """Images past retention and not deleted yet: captures taken before the cut-off; enrolment
    photos superseded by a newer version before it, or the latest of a learner with no session
    since it. A page: the oldest `limit` of each platform stored after `after`."""
    now = now or utcnow()
    out: list[Due] = []
    deleted = sa_select(ImageFace.image).where(ImageFace.deleted_at.is_not(None))  # type: ignore[union-attr]
    for org, (cutoff, name, days) in cutoffs(db, default_jurisdiction, now).items():
        since = [] if after is None else [Capture.created_at > after]
        for c in db.exec(select(Capture).where(Capture.organisation_id == org, Capture.created_at < cutoff, *since,
                                               (literal("captures/") + Capture.id).not_in(deleted))  # type: ignore[operator]
                         .order_by(Capture.created_at).limit(limit)).all():
            out.append(Due(f"captures/{c.id}", "capture", org, c.sha256, c.created_at, name, days))
        since = [] if after is None else [LearnerPhoto.created_at > after]
        photos = db.exec(select(LearnerPhoto).where(LearnerPhoto.organisation_id == org, LearnerPhoto.created_at < cutoff, *since,
                                                    LearnerPhoto.stored_name.not_in(deleted))  # type: ignore[attr-defined]
                         .order_by(LearnerPhoto.created_at).limit(limit)).all()
        if not photos:
            continue
        learners = sorted({p.learner_id for p in photos})
        versions: dict[str, list[tuple[int, datetime]]] = {}
        last_seen: dict[str, float] = {}
        for chunk in _chunks(learners):
            for learner_id, version, created in db.exec(select(LearnerPhoto.learner_id, LearnerPhoto.version,
                                                               LearnerPhoto.created_at).where(LearnerPhoto.learner_id.in_(chunk))).all():  # type: ignore[attr-defined]
                versions.setdefault(learner_id, []).append((version, created))
            for learner_id, end in db.exec(sa_select(SessionState.learner_id, func.max(SessionState.end_s))
                                           .where(SessionState.learner_id.in_(chunk)).group_by(SessionState.learner_id)).all():  # type: ignore[attr-defined]
                last_seen[learner_id] = end
        for p in photos:
            newer = [created for version, created in versions.get(p.learner_id, []) if version > p.version]
            if newer:
                if min(newer) >= cutoff:
                    continue  # superseded too recently
            elif last_seen.get(p.learner_id, float("-inf")) >= cutoff.timestamp():
                continue  # the learner's current photo, still in use
            out.append(Due(p.stored_name, "photo", org, p.sha256, p.created_at, name, days))
    return out


def held(db: Session, images: list[Due]) -> set[str]:
    """The images of a session flagged and not yet decided: kept until an inspector decides."""
    captures = [d.image for d in images if d.kind == "capture"]
    photos = [d.image for d in images if d.kind == "photo"]
    sessions: dict[tuple[str, str], set[str]] = {}
    for chunk in _chunks(captures):
        for image, learner_id, session in db.exec(select(FaceHash.image, FaceHash.learner_id, FaceHash.session).where(
                FaceHash.kind == "capture", FaceHash.image.in_(chunk))).all():  # type: ignore[attr-defined]
            sessions.setdefault((learner_id, (session or ":").split(":", 1)[1]), set()).add(image)
    by_learner: dict[str, set[str]] = {}
    for chunk in _chunks(photos):
        for image, learner_id in db.exec(select(LearnerPhoto.stored_name, LearnerPhoto.learner_id).where(
                LearnerPhoto.stored_name.in_(chunk))).all():  # type: ignore[attr-defined]
            by_learner.setdefault(learner_id, set()).add(image)
    undecided = (select(Flag.subject_id).where(Flag.subject_kind == "session", Flag.cleared_at.is_(None),  # type: ignore[union-attr]
                                               Flag.id.not_in(sa_select(Decision.flag_id))))  # type: ignore[attr-defined]
    out: set[str] = set()
    for chunk in _chunks(sorted(sessions)):
        for learner_id, session in db.exec(select(LearnerSession.learner_id, LearnerSession.session).where(
                tuple_(LearnerSession.learner_id, LearnerSession.session).in_(chunk),  # type: ignore[arg-type]
                LearnerSession.id.in_(undecided))).all():  # type: ignore[attr-defined]
            out |= sessions[(learner_id, session)]
    for chunk in _chunks(sorted(by_learner)):
        for learner_id in db.exec(select(LearnerSession.learner_id).where(
                LearnerSession.learner_id.in_(chunk), LearnerSession.id.in_(undecided)).distinct()).all():  # type: ignore[attr-defined,union-attr]
            out |= by_learner[learner_id]
    return out


def mark_deleted(db: Session, images: list[Due], now: datetime) -> None:
    """The images' faces keep their hashes and heights, not their encodings; audited one by one."""
    known = {}
    for chunk in _chunks([d.image for d in images]):
        known.update({r.image: r for r in db.exec(select(ImageFace).where(ImageFace.image.in_(chunk))).all()})  # type: ignore[attr-defined]
    for d in images:
        row = known.get(d.image) or ImageFace(image=d.image, faces=[])
        row.faces = [{k: v for k, v in f.items() if k != "encoding"} for f in row.faces]
        row.deleted_at = now
        db.add(row)
        db.add(AuditEntry(person=ACTOR, organisation_id=d.organisation_id, action="retention.delete", target=d.image,
                          detail={"kind": d.kind, "sha256": d.sha256, "created_at": d.created_at.isoformat(),
                                  "jurisdiction": d.jurisdiction, "retention_days": d.retention_days,
                                  "kept": "face hash and verdicts"}))
