"""The review aggregate: flags (the inspectors' queue), a flag with its subject and evidence,
and decisions, which are appended and never edit a flag or an earlier decision."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, select

from api.deps import Caller, audit
from api.core.problems import Problem, not_found
from models.tables import (Decision, DecisionPublic, Event, Flag, FlagPublic, HourResult, Learner, LearnerSession,
                           LearnerSessionPublic)


def _latest_outcome(db: Session, flag_ids: list[str]) -> dict[str, str]:
    if not flag_ids:
        return {}
    latest = (select(Decision.flag_id, func.max(Decision.id).label("last"))
              .where(Decision.flag_id.in_(flag_ids)).group_by(Decision.flag_id).subquery())  # type: ignore[attr-defined]
    rows = db.exec(select(Decision.flag_id, Decision.outcome).join(latest, Decision.id == latest.c.last)).all()
    return {flag_id: outcome for flag_id, outcome in rows}


def _status_filter(status: str):  # type: ignore[no-untyped-def]
    latest = select(Decision.outcome).where(Decision.flag_id == Flag.id).order_by(Decision.id.desc()).limit(1)  # type: ignore[union-attr]
    scalar = latest.scalar_subquery()
    return scalar.is_(None) if status == "open" else scalar == status


def _cursor(flag: Flag) -> str:
    return base64.urlsafe_b64encode(json.dumps([flag.subject_start.isoformat(), flag.id]).encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        start, flag_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(start)
        if at.tzinfo is None:  # this server's cursors carry an offset; a naive one would be a 500 at the database
            raise ValueError("naive")
        at.astimezone(timezone.utc)  # OverflowError at the ends of datetime
        return at, str(flag_id)
    except (ValueError, TypeError, OverflowError):
        raise Problem(400, "cursor: not a cursor this server gave", "bad-cursor") from None


class FlagPage(BaseModel):
    items: list[FlagPublic]
    next_cursor: str | None
    counts_by_rule: dict[str, int]


def flag_queue(db: Session, status: str | None = None, kind: str | None = None, organisation: str | None = None,
              rule: str | None = None, since: datetime | None = None, until: datetime | None = None,
              include_cleared: bool = False, limit: int = 50, cursor: str | None = None) -> FlagPage:
    """Flags, newest subject first; filters combine; `next_cursor` gives the next page."""
    query = select(Flag)
    if not include_cleared:
        query = query.where(Flag.cleared_at.is_(None))  # type: ignore[union-attr]
    if status:
        query = query.where(_status_filter(status))
    if kind:
        query = query.where(Flag.subject_kind == kind)
    if organisation:
        query = query.where(Flag.organisation_id == organisation)
    if since:
        query = query.where(Flag.subject_start >= since)
    if until:
        query = query.where(Flag.subject_start < until)
    if rule:  # rules are a JSON list of codes: matched as the quoted code in its text, on both databases
        query = query.where(cast(Flag.rules, String).like(f'%"{rule.replace("_", "!_")}"%', escape="!"))
    counts: dict[str, int] = {}
    for rules in db.exec(query.with_only_columns(Flag.rules)).all():  # type: ignore[attr-defined]
        for r in rules:
            counts[r] = counts.get(r, 0) + 1
    if cursor:
        start, flag_id = _parse_cursor(cursor)
        query = query.where(or_(Flag.subject_start < start, (Flag.subject_start == start) & (Flag.id < flag_id)))
    flags = list(db.exec(query.order_by(Flag.subject_start.desc(), Flag.id.desc()).limit(limit + 1)).all())  # type: ignore[attr-defined]
    page = flags[:limit]
    outcomes = _latest_outcome(db, [f.id for f in page])
    items = [FlagPublic.model_validate(f, update={"status": outcomes.get(f.id, "open")}) for f in page]
    return FlagPage(items=items, next_cursor=_cursor(page[-1]) if len(flags) > limit else None,
                    counts_by_rule=dict(sorted(counts.items())))


def flag_of(db: Session, flag_id: str) -> Flag:
    flag = db.get(Flag, flag_id)
    if flag is None:
        raise not_found(f"flag {flag_id}")
    return flag


def flag_with_subject(db: Session, flag_id: str) -> dict[str, Any]:
    """The flag, its subject with the findings and evidence (the class hour's report or the
    learner session), and its decisions, oldest first."""
    flag = flag_of(db, flag_id)
    subject: Any
    if flag.subject_kind == "hour":
        hour = db.get(HourResult, flag.subject_id)
        subject = {"class_id": hour.class_id, "report_id": hour.report_id, **hour.body} if hour else None
    else:
        session = db.get(LearnerSession, flag.subject_id)
        subject = LearnerSessionPublic.model_validate(session).model_dump(mode="json") if session else None
    decisions = db.exec(select(Decision).where(Decision.flag_id == flag_id).order_by(Decision.id)).all()
    outcome = decisions[-1].outcome if decisions else "open"
    return {"flag": FlagPublic.model_validate(flag, update={"status": outcome}).model_dump(mode="json"),
            "subject": subject,
            "decisions": [DecisionPublic.model_validate(d).model_dump(mode="json") for d in decisions]}


class DecisionIn(BaseModel):
    outcome: Literal["confirmed", "dismissed"]
    note: str = Field(default="", max_length=4000)


def add_decision(db: Session, caller: Caller, flag_id: str, body: DecisionIn) -> Decision:
    flag = flag_of(db, flag_id)
    decision = Decision(flag_id=flag.id, outcome=body.outcome, note=body.note, key_id=caller.key.id,
                        person=caller.key.person, organisation_id=caller.org_id)
    db.add(decision)
    audit(db, caller, "flag.decide", flag.id, outcome=body.outcome)
    db.commit()
    return decision


def decisions_of(db: Session, flag_id: str) -> list[Decision]:
    flag_of(db, flag_id)
    return list(db.exec(select(Decision).where(Decision.flag_id == flag_id).order_by(Decision.id)).all())


# The evidence of a flag, for the inspectors' pages.

def session_row(db: Session, session_id: str) -> LearnerSession | None:
    return db.get(LearnerSession, session_id)


def learner_row(db: Session, learner_id: str | None) -> Learner | None:
    return db.get(Learner, learner_id) if learner_id else None


def session_events(db: Session, session_id: str) -> list[dict[str, Any]]:
    """The events of a learner session as the platform sent them (stored bodies)."""
    row = db.get(LearnerSession, session_id)
    if row is None:
        return []
    bodies = db.exec(select(Event.body).where(Event.learner_id == row.learner_id, Event.session == row.session)).all()
    return [json.loads(b) for b in bodies]


def overlapping_sessions(db: Session, learner_ids: list[str], session_id: str, start: datetime,
                         end: datetime) -> list[LearnerSession]:
    """Sessions of these learners (one person's, on every platform) that overlap [start, end)."""
    return list(db.exec(select(LearnerSession).where(LearnerSession.learner_id.in_(learner_ids),  # type: ignore[attr-defined]
                                                     LearnerSession.id != session_id,
                                                     LearnerSession.start < end, LearnerSession.end > start)).all())


def hour_of_flag(db: Session, flag_id: str) -> HourResult | None:
    """The class hour a flag is about (None for a session's flag or an unknown flag)."""
    flag = db.get(Flag, flag_id)
    return db.get(HourResult, flag.subject_id) if flag is not None and flag.subject_kind == "hour" else None


def decisions_of_class(db: Session, class_id: str) -> dict[str, list[Decision]]:
    """Per class hour (its subject key, `class#index`), the decisions on its flag, oldest first."""
    flags = db.exec(select(Flag).where(Flag.subject_kind == "hour",
                                       Flag.subject_key.startswith(f"{class_id}#"))).all()  # type: ignore[attr-defined]
    return {flag.subject_key: list(db.exec(select(Decision).where(Decision.flag_id == flag.id).order_by(Decision.id)).all())
            for flag in flags}
