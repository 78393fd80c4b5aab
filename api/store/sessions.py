"""Learner sessions as judged: who may read which, and what of it. A platform reads its own
sessions only, and of those never a face check's score or another platform's side of a
cross-platform finding; an inspector reads all. Kept here so the API and the pages cannot
disagree about it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from api.core.problems import not_found
from api.deps import Caller
from api.store.events import mark_dirty, subjects_of_ids
from models.tables import Job, JudgingFailure, LearnerSession, LearnerSessionPublic, Role
from monitor.findings import RULES

_SCORES = ("measured", "threshold", "evidence")


def sessions_page(db: Session, caller: Caller, learner: str | None = None, verdict: str | None = None,
                  since: datetime | None = None, after: str | None = None, limit: int = 100) -> list[LearnerSessionPublic]:
    """By id; `after`: the cursor (the last id of the previous page)."""
    query = select(LearnerSession).order_by(LearnerSession.id)
    if caller.role == Role.PLATFORM:
        query = query.where(LearnerSession.organisation_id == caller.org_id)
    if learner:
        query = query.where(LearnerSession.learner == learner)
    if verdict:
        query = query.where(LearnerSession.verdict == verdict)
    if since:
        query = query.where(LearnerSession.start >= since)
    if after:
        query = query.where(LearnerSession.id > after)  # type: ignore[operator]
    return [for_caller(r, caller.role, caller.org_id) for r in db.exec(query.limit(limit)).all()]


def session_row(db: Session, caller: Caller, session_id: str) -> LearnerSession:
    """A session the caller may read (a platform: its own; another's is a 404)."""
    row = db.get(LearnerSession, session_id)
    if row is None or (caller.role == Role.PLATFORM and row.organisation_id != caller.org_id):
        raise not_found(f"session {session_id}")
    return row


def for_caller(row: LearnerSession, role: str, organisation_id: str) -> LearnerSessionPublic:
    """A platform learns whether a face check passed, never its score or what it was compared
    with (GB/T 38671-2020 6.1.6.6): those fields of face findings are left out for it. Nor does
    it learn another platform's side of a finding (the same person learning there at the same
    time): that the other session exists and overlaps, not where, what or which platform."""
    public = LearnerSessionPublic.model_validate(row)
    if role == Role.PLATFORM:
        public.findings = [_platform_side(f, organisation_id) for f in public.findings]
    return public


def _platform_side(finding: dict[str, Any], organisation_id: str) -> dict[str, Any]:
    if str(finding.get("rule", "")).startswith("online.face_"):
        return {k: v for k, v in finding.items() if k not in _SCORES}
    evidence = finding.get("evidence") or {}
    other = evidence.get("other_platform_id")
    if other is not None and other != organisation_id:
        # Everything that names the other side goes: evidence, the message's arguments, the text.
        said = RULES["online.multi_window"].messages["elsewhere"]
        return {**finding, "evidence": {"other_platform": "another platform"}, "message": "elsewhere", "args": {},
                "detail": said.en}
    return finding


def unpin_photo(db: Session, session_id: str) -> Job | None:
    """Have a session judged again against its learner's newest enrolment photo (a session
    otherwise keeps the photo version it was first judged with): the queued job, if new."""
    row = db.get(LearnerSession, session_id)
    if row is None or row.learner_id is None:
        raise not_found(f"session {session_id}")
    row.judged_by = {**(row.judged_by or {}), "photo_unpinned": True}
    db.add(row)
    return mark_dirty(db, subjects_of_ids(db, [row.learner_id]))


def judging_failures(db: Session) -> list[JudgingFailure]:
    """Oldest first: what has waited longest is looked at first."""
    return list(db.exec(select(JudgingFailure).order_by(JudgingFailure.first_failed_at)).all())  # type: ignore[arg-type]
