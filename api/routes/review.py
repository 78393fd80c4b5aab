"""Inspectors: the queue of flagged class hours and learner sessions, a flag's evidence, and
decisions (api/store/review.py); judging failures; a session judged again on request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.core.bodies import QueryInstant
from api.deps import DB, Inspector, Svc, audit
from api.store.review import DecisionIn, FlagPage, add_decision, decisions_of, flag_queue, flag_with_subject
from api.store.sessions import judging_failures, unpin_photo
from models.tables import Decision, DecisionPublic, JudgingFailure

router = APIRouter(tags=["review"])


@router.get("/flags", response_model=FlagPage)
def queue(db: DB, caller: Inspector,
          status: Literal["open", "confirmed", "dismissed"] | None = None,
          kind: Literal["hour", "session", "trainee"] | None = None,
          organisation: str | None = None,
          rule: Annotated[str | None, Query(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=60)] = None,
          since: QueryInstant | None = None, until: QueryInstant | None = None,
          include_cleared: bool = False,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          cursor: str | None = None) -> FlagPage:
    """Flags, newest subject first; filters combine; `next_cursor` gives the next page."""
    return flag_queue(db, status, kind, organisation, rule, since, until, include_cleared, limit, cursor)


@router.get("/flags/{flag_id}")
def read_flag(flag_id: str, db: DB, caller: Inspector) -> dict[str, Any]:
    """The flag, its subject with the findings and evidence (the class hour's report or the
    learner session), and its decisions, oldest first."""
    return flag_with_subject(db, flag_id)


@router.post("/flags/{flag_id}/decisions", status_code=201, response_model=DecisionPublic)
def decide(flag_id: str, body: DecisionIn, db: DB, caller: Inspector) -> Decision:
    return add_decision(db, caller, flag_id, body)


@router.get("/flags/{flag_id}/decisions", response_model=list[DecisionPublic])
def decisions(flag_id: str, db: DB, caller: Inspector) -> list[Decision]:
    return decisions_of(db, flag_id)


@router.get("/judging/failures", response_model=list[JudgingFailure])
def failures(db: DB, caller: Inspector) -> list[JudgingFailure]:
    """Learners whose judging failed (`judging.failed`): the reason, how often, when it is tried
    again. The other learners of the same batch were judged; these are never silently left."""
    return judging_failures(db)


@router.post("/sessions/{session_id}/rejudge", status_code=202)
def rejudge_session(session_id: str, db: DB, caller: Inspector, svc: Svc) -> dict[str, str]:
    """Judge a session again against its learner's newest enrolment photo (a session otherwise
    keeps the photo version it was first judged with)."""
    queued = unpin_photo(db, session_id)
    audit(db, caller, "session.rejudge", session_id)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"session": session_id, "status": "queued"}
