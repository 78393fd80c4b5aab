"""Platforms' face checks (B4, B6): learners' enrolment photos, captures (stills or the frames of
a burst; events name them by id), and challenges: a moment the learner cannot predict, a prompt
and a nonce. What a platform reads back of a face check is pass or fail, never a score
(GB/T 38671-2020 6.1.6.6); inspectors see the scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlmodel import select

from api.bodies import Instant
from api.deps import DB, Platform, Svc, audit
from api.limits import ingest_limit
from api.problems import documented
from api.ingest import mark_dirty
from api.photos import accept_capture, accept_enrolment_photo
from models.tables import Capture, ChallengeRecord, LearnerPhoto, new_id
from monitor.faces.challenge import challenges_for
from monitor.policy import load_policy

router = APIRouter(tags=["faces"])


@router.put("/learners/{learner}/photo", status_code=201)
async def put_learner_photo(learner: str, request: Request, db: DB, caller: Platform, svc: Svc) -> dict[str, Any]:
    """The learner's enrolment photo (the image bytes as the body): one usable face, or 422."""
    policy = load_policy(svc.settings.online_policy, svc.settings.online_policy_overrides)
    relative, received = await accept_enrolment_photo(request, svc, "learner-photos", learner, learner,
                                                      policy.enrolment_min_face_px)
    row = db.get(LearnerPhoto, learner)
    if row is None:
        row = LearnerPhoto(learner=learner, organisation_id=caller.org_id, stored_name=relative, sha256=received.sha256)
    else:
        row.organisation_id, row.stored_name, row.sha256 = caller.org_id, relative, received.sha256
    db.add(row)
    queued = mark_dirty(db, [learner], svc.settings.judge_delay_s)
    audit(db, caller, "learner.photo", learner, sha256=received.sha256)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"learner": learner, "sha256": received.sha256}


class CaptureMade(BaseModel):
    id: str = Field(description="name it in the event's `image` (or `images`)")
    sha256: str
    size_bytes: int


@router.post("/captures", status_code=201, response_model=CaptureMade,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
async def post_capture(request: Request, db: DB, caller: Platform, svc: Svc) -> CaptureMade:
    """A face capture or kept photo (the image bytes as the body), before the event naming it."""
    capture_id = new_id()
    received = await accept_capture(request, svc, capture_id)
    db.add(Capture(id=capture_id, organisation_id=caller.org_id, sha256=received.sha256, size_bytes=received.size))
    audit(db, caller, "capture.upload", capture_id, sha256=received.sha256)
    db.commit()
    return CaptureMade(id=capture_id, sha256=received.sha256, size_bytes=received.size)


class ChallengeAsk(BaseModel):
    learner: str = Field(min_length=1, max_length=200)
    session: str = Field(min_length=1, max_length=200)
    start: Instant
    planned_s: float = Field(gt=0, le=24 * 3600, description="how long the session is planned to last")


class ChallengeOut(BaseModel):
    learner: str
    session: str
    at: datetime
    prompt: str
    nonce: str


@router.post("/challenges", status_code=201, response_model=list[ChallengeOut])
def post_challenges(body: ChallengeAsk, db: DB, caller: Platform, svc: Svc) -> list[ChallengeOut]:
    """When to take the captures of a session (one at its start, one at a random moment of each
    class hour), the prompt for each burst, and the nonce each capture must carry back."""
    policy = load_policy(svc.settings.online_policy, svc.settings.online_policy_overrides)
    made = challenges_for(body.learner, body.session, body.start, body.planned_s, policy)
    for c in made:
        db.add(ChallengeRecord(organisation_id=caller.org_id, learner=c.learner, session=c.session, at=c.at,
                               prompt=c.prompt, nonce=c.nonce))
    audit(db, caller, "challenges.hand_out", body.session, learner=body.learner, count=len(made))
    db.commit()
    return [ChallengeOut(learner=c.learner, session=c.session, at=c.at, prompt=c.prompt, nonce=c.nonce) for c in made]


def own_captures(db: DB, organisation_id: str, ids: set[str]) -> set[str]:
    found: set[str] = set()
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        found.update(db.exec(select(Capture.id).where(Capture.organisation_id == organisation_id,
                                                      Capture.id.in_(listed[start:start + 500]))).all())  # type: ignore[attr-defined]
    return found
