"""Inspectors: the queue of flagged class hours and learner sessions, a flag's evidence, and
decisions. A decision is appended; it never edits the flag or an earlier decision."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, select

from api.bodies import QueryInstant
from api.deps import DB, Inspector, Svc, audit
from api.problems import Problem, not_found
from api.store.events import mark_dirty, subjects_of_ids
from models.tables import (Decision, DecisionPublic, Flag, FlagPublic, HourResult, JudgingFailure, LearnerSession,
                           LearnerSessionPublic)

router = APIRouter(tags=["review"])


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
        return datetime.fromisoformat(start), str(flag_id)
    except (ValueError, TypeError):
        raise Problem(400, "cursor: not a cursor this server gave", "bad-cursor") from None


class FlagPage(BaseModel):
    items: list[FlagPublic]
    next_cursor: str | None
    counts_by_rule: dict[str, int]


@router.get("/flags", response_model=FlagPage)
def queue(db: DB, caller: Inspector,
          status: Literal["open", "confirmed", "dismissed"] | None = None,
          kind: Literal["hour", "session"] | None = None,
          organisation: str | None = None,
          rule: Annotated[str | None, Query(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=60)] = None,
          since: QueryInstant | None = None, until: QueryInstant | None = None,
          include_cleared: bool = False,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          cursor: str | None = None) -> FlagPage:
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


def _flag(db: Session, flag_id: str) -> Flag:
    flag = db.get(Flag, flag_id)
    if flag is None:
        raise not_found(f"flag {flag_id}")
    return flag


@router.get("/flags/{flag_id}")
def read_flag(flag_id: str, db: DB, caller: Inspector) -> dict[str, Any]:
    """The flag, its subject with the findings and evidence (the class hour's report or the
    learner session), and its decisions, oldest first."""
    flag = _flag(db, flag_id)
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


@router.post("/flags/{flag_id}/decisions", status_code=201, response_model=DecisionPublic)
def decide(flag_id: str, body: DecisionIn, db: DB, caller: Inspector) -> Decision:
    flag = _flag(db, flag_id)
    decision = Decision(flag_id=flag.id, outcome=body.outcome, note=body.note, key_id=caller.key.id,
                        person=caller.key.person, organisation_id=caller.org_id)
    db.add(decision)
    audit(db, caller, "flag.decide", flag.id, outcome=body.outcome)
    db.commit()
    return decision


@router.get("/flags/{flag_id}/decisions", response_model=list[DecisionPublic])
def decisions(flag_id: str, db: DB, caller: Inspector) -> list[Decision]:
    _flag(db, flag_id)
    return list(db.exec(select(Decision).where(Decision.flag_id == flag_id).order_by(Decision.id)).all())


@router.get("/judging/failures", response_model=list[JudgingFailure])
def judging_failures(db: DB, caller: Inspector) -> list[JudgingFailure]:
    """Learners whose judging failed (`judging.failed`): the reason, how often, when it is tried
    again. The other learners of the same batch were judged; these are never silently left."""
    return list(db.exec(select(JudgingFailure).order_by(JudgingFailure.first_failed_at)).all())


@router.post("/sessions/{session_id}/rejudge", status_code=202)
def rejudge_session(session_id: str, db: DB, caller: Inspector, svc: Svc) -> dict[str, str]:
    """Judge a session again against its learner's newest enrolment photo (a session otherwise
    keeps the photo version it was first judged with)."""
    row = db.get(LearnerSession, session_id)
    if row is None or row.learner_id is None:
        raise not_found(f"session {session_id}")
    row.judged_by = {**(row.judged_by or {}), "photo_unpinned": True}
    db.add(row)
    queued = mark_dirty(db, subjects_of_ids(db, [row.learner_id]))
    audit(db, caller, "session.rejudge", session_id)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"session": session_id, "status": "queued"}
