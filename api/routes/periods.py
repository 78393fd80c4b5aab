"""A class period as the documents run it (004 annex 2): the authority accepts a late opening
application, inspectors record signed on-site checks and accept leaves, the institution reports
absences with their make-up lessons and the class's assessment; everyone with the class in view
reads the period: attendance per trainee, the subsidisable headcount, the trainees' person
findings and the inspection record's data. Inspectors act only in their own jurisdiction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from api.core.problems import not_found
from api.deps import DB, Caller, Institution, InstitutionOrInspector, Inspector, Svc, role
from api.store.classes import (accept_absence, accept_late_registration, class_by_id, class_period, class_policy, owned_class,
                               owner_of, record_absence, record_assessment, record_onsite_check)
from api.store.keys import organisation_by_id
from api.store.organisations import jurisdiction_of
from models.tables import OnsiteCheckPublic, Role, TrainingClass

router = APIRouter(tags=["class periods"])
Authority = Annotated[Caller, Depends(role(Role.ADMIN, Role.INSPECTOR))]


def _jurisdiction(db: DB, klass: TrainingClass, default: str) -> str:
    return jurisdiction_of(owner_of(db, klass), default)


def _inspected(db: DB, caller: Caller, class_id: str, default: str) -> TrainingClass:
    """A class an inspector may act on: one of the inspectorate's own jurisdiction (another's is
    a plain 404, as another tenant's object is)."""
    klass = class_by_id(db, class_id)
    if klass is None or _jurisdiction(db, klass, default) != jurisdiction_of(caller.organisation, default):
        raise not_found(f"class {class_id}")
    return klass


class OnsiteCheckIn(BaseModel):
    at: AwareDatetime = Field(description="when the check was made (with its UTC offset)")
    present: int = Field(ge=0, le=10_000, description="trainees counted present")
    absent: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=500,
                                                                              description="trainee ids seen absent")
    note: str = Field(default="", max_length=2000)


@router.post("/classes/{class_id}/checks", status_code=201, response_model=OnsiteCheckPublic)
def post_onsite_check(class_id: str, body: OnsiteCheckIn, db: DB, caller: Inspector, svc: Svc) -> Any:
    """An inspector's on-site check (when, present count, names seen absent, note), signed by the
    inspector's key; it joins the class period's headcount series. Append-only."""
    klass = _inspected(db, caller, class_id, svc.settings.default_jurisdiction)
    return record_onsite_check(db, caller, klass, body.at, body.present, body.absent, body.note)


class AssessmentIn(BaseModel):
    assessed_at: AwareDatetime


@router.put("/classes/{class_id}/assessment")
def put_assessment(class_id: str, body: AssessmentIn, db: DB, caller: Institution) -> dict[str, Any]:
    """The class's assessment (结业考核): set once; its trainees' next trainings wait a calendar
    month from it (person.cooldown)."""
    row = record_assessment(db, caller, owned_class(db, caller, class_id), body.assessed_at)
    return {"class_id": row.class_id, "assessed_at": row.assessed_at.isoformat(), "person": row.person}


class AbsenceIn(BaseModel):
    trainee: str = Field(min_length=1, max_length=200)
    hour: int = Field(ge=1, le=100_000, description="the class hour missed")
    makeup_hour: int | None = Field(default=None, ge=1, le=100_000,
                                    description="the later class hour of the same content that makes it up")
    reason: str = Field(min_length=1, max_length=2000, description="the written leave")


@router.post("/classes/{class_id}/absences", status_code=201)
def post_absence(class_id: str, body: AbsenceIn, db: DB, caller: Institution) -> dict[str, Any]:
    """A trainee's leave for a class hour and its make-up lesson; counts once an inspector accepts."""
    row = record_absence(db, caller, owned_class(db, caller, class_id), body.trainee, body.hour, body.makeup_hour, body.reason)
    return {"id": row.id, "trainee": row.trainee_id, "hour": row.hour_index, "makeup_hour": row.makeup_hour_index}


@router.post("/classes/{class_id}/absences/{absence_id}/acceptance")
def post_absence_acceptance(class_id: str, absence_id: int, db: DB, caller: Inspector, svc: Svc) -> dict[str, Any]:
    row = accept_absence(db, caller, _inspected(db, caller, class_id, svc.settings.default_jurisdiction), absence_id)
    return {"id": row.id, "accepted_by": row.accepted_by, "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None}


class LateRegistrationIn(BaseModel):
    institution_id: str = Field(min_length=1, max_length=32)
    class_ref: str = Field(min_length=1, max_length=200, description="the class id the institution will register")
    reason: str = Field(min_length=3, max_length=2000)


@router.post("/late-registrations", status_code=201)
def post_late_registration(body: LateRegistrationIn, db: DB, caller: Authority, svc: Svc) -> dict[str, Any]:
    """The authority accepts one class registered after its first hour began (an admin, or the
    inspectorate of the institution's jurisdiction); audited. Without it, such a registration is
    refused (422 class-registered-late)."""
    default = svc.settings.default_jurisdiction
    institution = organisation_by_id(db, body.institution_id)
    if institution is None:
        raise not_found(f"institution {body.institution_id}")
    own = jurisdiction_of(caller.organisation, default) if caller.role == Role.INSPECTOR else None
    row = accept_late_registration(db, caller, own, institution, jurisdiction_of(institution, default), body.class_ref,
                                   body.reason)
    return {"id": row.id, "institution_id": row.organisation_id, "class_ref": row.class_ref, "person": row.person}


@router.get("/classes/{class_id}/period")
def read_period(class_id: str, db: DB, caller: InstitutionOrInspector, svc: Svc) -> dict[str, Any]:
    """Attendance per trainee and the subsidisable headcount (the lower of the opening number and
    the mean present at checks, with its series), the trainees' person findings, on-site checks,
    leaves and the assessment, judged by the class's jurisdiction's values on its first day."""
    klass = owned_class(db, caller, class_id)
    return class_period(db, klass, class_policy(db, klass, svc.settings.default_jurisdiction))
