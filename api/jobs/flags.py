"""Flags: what enters the inspectors' queue. A subject (class hour, learner session) that is not
valid raises a flag, or refreshes its own; one that becomes valid clears it. Decisions hang off
the flag and are never touched here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from models.tables import Flag
from models.types import utcnow


@dataclass(frozen=True)
class SubjectState:
    kind: str  # hour | session
    key: str  # unique per kind: class id + hour index, or the learner session's id
    subject_id: str  # the row an inspector opens
    organisation_id: str
    verdict: str
    rules: list[str]
    start: datetime


def raise_or_clear(db: Session, kind: str, key: str, subject_id: str, organisation_id: str, verdict: str,
                   rules: list[str], subject_start: datetime) -> None:
    raise_or_clear_all(db, [SubjectState(kind, key, subject_id, organisation_id, verdict, rules, subject_start)])


def raise_or_clear_all(db: Session, subjects: list[SubjectState]) -> None:
    """In bulk: one read of the existing flags, one executemany of new ones, one of changes."""
    existing: dict[tuple[str, str], Flag] = {}
    for kind in {s.kind for s in subjects}:
        keys = [s.key for s in subjects if s.kind == kind]
        for start in range(0, len(keys), 500):
            for flag in db.exec(select(Flag).where(Flag.subject_kind == kind,
                                                   Flag.subject_key.in_(keys[start:start + 500]))).all():  # type: ignore[attr-defined]
                existing[(kind, flag.subject_key)] = flag
    now = utcnow()
    new: list[Flag] = []
    changes: list[dict[str, object]] = []
    for s in subjects:
        flag = existing.get((s.kind, s.key))
        rules = sorted(set(s.rules))
        if s.verdict == "valid":
            if flag is not None and flag.cleared_at is None:
                changes.append({"flag": flag.id, "subject_id": s.subject_id, "verdict": s.verdict, "rules": [],
                                "updated_at": now, "cleared_at": now})
        elif flag is None:
            new.append(Flag(subject_kind=s.kind, subject_key=s.key, subject_id=s.subject_id,
                            organisation_id=s.organisation_id, verdict=s.verdict, rules=rules, subject_start=s.start))
        elif (flag.verdict, flag.rules, flag.cleared_at, flag.subject_id) != (s.verdict, rules, None, s.subject_id):
            changes.append({"flag": flag.id, "subject_id": s.subject_id, "verdict": s.verdict, "rules": rules,
                            "updated_at": now, "cleared_at": None})
    db.add_all(new)
    db.flush()
    if changes:
        statement = (update(Flag).where(Flag.id == bindparam("flag"))  # type: ignore[arg-type]
                     .values(subject_id=bindparam("subject_id"), verdict=bindparam("verdict"), rules=bindparam("rules"),
                             updated_at=bindparam("updated_at"), cleared_at=bindparam("cleared_at")))
        db.connection().execute(statement, changes)
