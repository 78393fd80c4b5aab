"""Platforms' face checks (B4, B6): learners' enrolment photos, captures (stills or the frames of
a burst; events name them by id), and challenges: a moment the learner cannot predict, a prompt
and a nonce. What a platform reads back of a face check is pass or fail, never a score
(GB/T 38671-2020 6.1.6.6); inspectors see the scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.core.bodies import Instant
from api.deps import DB, Platform, Svc, audit, ingest_limit

from api.core.photos import accept_capture, accept_enrolment_photo
from api.core.problems import documented
from api.store.faces import add_capture, add_learner_photo, hand_out, link_person
from api.store.organisations import PolicyBook, jurisdiction_of
from models.tables import new_id
from monitor.faces.challenge import challenges_for
from monitor.policy import Policy

router = APIRouter(tags=["faces"])


def _policy_today(db: DB, caller: Platform, svc: Svc, on: date | None = None) -> Policy:
    """The caller's jurisdiction's numbers in force (today, or on a given day)."""
    return PolicyBook(db).judged_by(jurisdiction_of(caller.organisation, svc.settings.default_jurisdiction),
                                    on or date.today()).policy()


class PersonLink(BaseModel):
    person_id: str = Field(min_length=6, max_length=40, pattern=r"^[0-9A-Za-z\s-]+$",
                           description="the real-name identity (居民身份证号码) the learner registered with; "
                                       "kept only as a keyed hash, never stored or returned in clear")


@router.put("/learners/{learner}", status_code=200)
def put_learner(learner: str, body: PersonLink, db: DB, caller: Platform, svc: Svc) -> dict[str, Any]:
    """Enrol a learner of this platform with their person id (实名制). It links the same person's
    learners on every platform, for the rules that look across platforms (one person in two
    sessions at once, cool-down after another platform's course). Set once: another person id
    for the same learner is a conflict (409)."""
    row, queued = link_person(db, caller.org_id, learner, body.person_id, svc.settings.person_secret_value(),
                              svc.settings.judge_delay_s)
    audit(db, caller, "learner.person", learner, learner_id=row.id)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"learner": learner, "person_linked": True}


@router.put("/learners/{learner}/photo", status_code=201)
async def put_learner_photo(learner: str, request: Request, db: DB, caller: Platform, svc: Svc) -> dict[str, Any]:
    """The learner's enrolment photo (the image bytes as the body): one usable face, or 422.
    Never overwrites: a new photo is the next version. Sessions already judged keep the version
    they were judged against (an inspector may have them judged against the latest); sessions
    judged from now on use the latest."""
    policy = _policy_today(db, caller, svc)
    relative, received = await accept_enrolment_photo(request, svc, "learner-photos", learner, learner,
                                                      policy.enrolment_min_face_px)
    row = add_learner_photo(db, caller.org_id, learner, relative, received.sha256)
    audit(db, caller, "learner.photo", learner, sha256=received.sha256, version=row.version)
    db.commit()
    return {"learner": learner, "sha256": received.sha256, "version": row.version}


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
    add_capture(db, caller.org_id, capture_id, received.sha256, received.size)
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
    policy = _policy_today(db, caller, svc, body.start.date())
    made = challenges_for(body.learner, body.session, body.start, body.planned_s, policy)
    hand_out(db, caller.org_id, made)
    audit(db, caller, "challenges.hand_out", body.session, learner=body.learner, count=len(made))
    db.commit()
    return [ChallengeOut(learner=c.learner, session=c.session, at=c.at, prompt=c.prompt, nonce=c.nonce) for c in made]
