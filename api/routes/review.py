"""Inspectors: the queue of flagged class hours and learner sessions, a flag's evidence, and
decisions (api/store/review.py); judging failures; a session judged again on request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.core.bodies import QueryInstant
from api.deps import DB, Inspector, Svc, audit
from api.store.review import UNDO_S, DecisionIn, FlagPage, add_decision, decisions_of, flag_queue, flag_with_subject, withdraw
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
    """A decision appended (never edits the flag or an earlier decision): on one finding when
    `finding` names it (one of the flag's `finding_keys`), else on the whole flag; with a reason
    code of the outcome's list. The same store function as the pages' decision bar."""
    return add_decision(db, caller, flag_id, body)


class WithdrawalIn(BaseModel):
    decisions: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=50,
                                                                       description="ids of your own decisions on this flag")


@router.post("/flags/{flag_id}/withdrawals", status_code=201, response_model=list[DecisionPublic])
def withdraw_decisions(flag_id: str, body: WithdrawalIn, db: DB, caller: Inspector) -> list[Decision]:
    """Undo, as the pages' undo: a withdrawal appended for each of your own decisions on this
    flag made within the last minute (the flag reopens where they stood). Another's decision, an
    older one, one already withdrawn or one of another flag is a 409 and nothing is written."""
    return withdraw(db, caller, flag_id, list(body.decisions), UNDO_S)


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
