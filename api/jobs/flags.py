"""Flags: what enters the inspectors' queue. A subject (class hour, learner session) that is not
valid raises a flag, or refreshes its own; one that becomes valid clears it. Decisions hang off
the flag and are never touched here."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models.tables import Flag
from models.types import utcnow


def raise_or_clear(db: Session, kind: str, key: str, subject_id: str, organisation_id: str, verdict: str,
                   rules: list[str], subject_start: datetime) -> None:
    flag = db.exec(select(Flag).where(Flag.subject_kind == kind, Flag.subject_key == key)).first()
    now = utcnow()
    if verdict == "valid":
        if flag is not None and flag.cleared_at is None:
            flag.subject_id, flag.verdict, flag.rules, flag.updated_at, flag.cleared_at = subject_id, verdict, [], now, now
            db.add(flag)
        return
    rules = sorted(set(rules))
    if flag is None:
        db.add(Flag(subject_kind=kind, subject_key=key, subject_id=subject_id, organisation_id=organisation_id,
                    verdict=verdict, rules=rules, subject_start=subject_start))
        return
    flag.subject_id, flag.verdict, flag.rules, flag.updated_at, flag.cleared_at = subject_id, verdict, rules, now, None
    db.add(flag)
