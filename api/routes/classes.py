"""Institutions: register a class, give its roster photos and recordings, run the analysis, read
the report. Inspectors read any class; an institution only its own (another's is a 404). The
policy a class is judged by is its jurisdiction's: a manifest cannot name one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from api.deps import DB, AnyCaller, Institution, InstitutionOrInspector, Svc, audit, role, ingest_limit

from api.core.bodies import NO_NUL, Text, refuse_unstorable
from api.core.photos import accept_enrolment_photo
from api.core.problems import Problem, documented, not_found
from api.core.storage import Storage, receive
from api.store.classes import (link_class_trainees, refuse_late_registration, add_roster_photo, class_by_id, class_page, first_day, job_for, latest_report, owned_class,
                               owner_of, probe_upload, recordings_of, add_class, same_recording, store_recording)
from api.store import courses
from api.store.jobs import enqueue
from api.store.organisations import PolicyBook, add_override, jurisdiction_of
from models.tables import (Job, JobKind, JobPublic, PolicyOverridePublic, Recording, RecordingPublic, Role, new_id,
                           TrainingClass, TrainingClassPublic)
from models.types import utcnow
from monitor.manifest import ClassManifest, check_class_shape

router = APIRouter(tags=["classes"])
Authority = Annotated[AnyCaller.__origin__, Depends(role(Role.ADMIN, Role.INSPECTOR))]  # type: ignore[attr-defined]


class ClassRegistration(ClassManifest):
    """The manifest of `monitor analyze`, less what only the authority decides."""

    @model_validator(mode="before")
    @classmethod
    def _no_policy(cls, data: Any) -> Any:
        if isinstance(data, dict):
            named = sorted(k for k in ("policy", "policy_overrides") if k in data)
            if named:
                raise ValueError(f"{' and '.join(named)} cannot be given: the policy is the jurisdiction's "
                                 "(its profile in force on the class's dates, and overrides only the authority sets)")
        return data


@router.post("/classes", status_code=201, response_model=TrainingClassPublic)
def register_class(manifest: ClassRegistration, db: DB, caller: Institution, svc: Svc, response: Response) -> TrainingClass:
    """The manifest of `monitor analyze` without `policy` or `policy_overrides` (422: the policy
    is the jurisdiction's); its recordings and photos are uploaded separately, so their paths
    here are ignored. A class that breaks A5 (no teachers included) is refused (422, naming the
    rule), judged by the profile in force on its first day. The same manifest registered again
    (a retry after a lost answer) is the class registered (200); another manifest under a class
    id already used is a conflict (409)."""
    refuse_unstorable(manifest.model_dump(mode="json"), "the class")
    where = jurisdiction_of(caller.organisation, svc.settings.default_jurisdiction)
    judged = PolicyBook(db).judged_by(where, first_day(manifest))
    check_class_shape(manifest, judged.policy())
    late = refuse_late_registration(db, caller.org_id, manifest.class_id, manifest, judged.policy(), utcnow())
    body = manifest.model_dump(mode="json", exclude={"recordings", "policy", "policy_overrides"})
    # the ID numbers are kept only as keyed hashes (link_trainees), never in the stored manifest
    body["roster"] = [{k: v for k, v in t.items() if k not in ("photo", "person_id")} for t in body["roster"]]
    klass, new = add_class(db, caller, manifest.class_id, judged.profile, body, where)
    if not new:
        response.status_code = 200
    else:
        link_class_trainees(db, caller, klass, [t.model_dump() for t in manifest.roster],
                            svc.settings.person_secret_value(), late)
    return klass


class BlendedCourseIn(BaseModel):
    """An institution's blended course (003 §21): its class hours and the listed platform's course
    that is its theory part online. The 40 % cap (online_theory_share_max of the platform's
    profile) judges that platform course's sessions once the platform names this institution on it."""

    model_config = ConfigDict(extra="forbid")

    platform: Text = Field(min_length=1, max_length=200, description="the platform's name, as registered")
    platform_course: Text = Field(min_length=1, max_length=200, description="the platform's id of the online part")
    total_hours: float = Field(gt=0, le=10_000, description="class hours of the whole course, online and offline")
    online_hours: float = Field(ge=0, le=10_000, description="class hours of it learned online on the platform")
    occupation: Text | None = Field(default=None, max_length=200)
    level: Text | None = Field(default=None, max_length=50)


@router.put("/blended-courses/{course_ref}", response_model=dict[str, Any])
def put_blended_course(course_ref: Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL)], course: BlendedCourseIn,
                       db: DB, caller: Institution, svc: Svc) -> dict[str, Any]:
    """Declare (or change) one of the institution's courses as blended, with its online part on a
    platform (422: no such platform, or more online hours than the course has). Its learners on that
    platform course are judged again; the cap applies where the platform's course names this
    institution (`blended_for`), so that no one tenant puts another's learners under it."""
    stored, queued = courses.put_blended(db, caller.org_id, course_ref, course.model_dump(mode="json"))
    audit(db, caller, "course.blended", course_ref, platform=stored["platform_id"], platform_course=course.platform_course,
          total_hours=course.total_hours, online_hours=course.online_hours)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"course": course_ref, **{k: v for k, v in stored.items() if k != "platform_id"}}


class OverrideIn(BaseModel):
    parameters: dict[str, Any] = Field(description="policy parameters and their values (see `monitor policy`)")
    reason: str = Field(min_length=3, max_length=2000, description="why: kept with the override and shown on every verdict")
    in_force_from: date | None = Field(default=None, description="jurisdiction overrides only: from this day on")


def _caller_jurisdiction(caller: AnyCaller, default: str) -> str | None:
    return jurisdiction_of(caller.organisation, default) if caller.role == Role.INSPECTOR else None


@router.post("/jurisdictions/{jurisdiction}/overrides", status_code=201, response_model=PolicyOverridePublic)
def override_jurisdiction(jurisdiction: str, body: OverrideIn, db: DB, caller: Authority, svc: Svc) -> Any:
    """The authority changes a number for its jurisdiction (an admin anywhere, an inspectorate
    for its own): audited, and embedded with its author and reason in every verdict it judges.
    Verdicts already stored change only when judged again."""
    row = add_override(db, role=caller.role, caller_jurisdiction=_caller_jurisdiction(caller, svc.settings.default_jurisdiction),
                       key_id=caller.key.id, person=caller.key.person, organisation_id=caller.org_id, target=jurisdiction,
                       parameters=body.parameters, reason=body.reason, in_force_from=body.in_force_from)
    db.flush()
    audit(db, caller, "policy.override", jurisdiction, override=row.id, parameters=body.parameters, reason=body.reason,
          in_force_from=body.in_force_from.isoformat() if body.in_force_from else None)
    db.commit()
    return row


@router.post("/classes/{class_id}/overrides", status_code=201, response_model=PolicyOverridePublic)
def override_class(class_id: str, body: OverrideIn, db: DB, caller: Authority, svc: Svc) -> Any:
    """The authority changes a number for one class (an admin, or the inspectorate of the class's
    jurisdiction); the institution cannot. Used from the class's next analysis on."""
    klass = class_by_id(db, class_id)
    if klass is None:
        raise not_found(f"class {class_id}")
    owner = owner_of(db, klass)
    row = add_override(db, role=caller.role, caller_jurisdiction=_caller_jurisdiction(caller, svc.settings.default_jurisdiction),
                       key_id=caller.key.id, person=caller.key.person, organisation_id=caller.org_id,
                       target=jurisdiction_of(owner, svc.settings.default_jurisdiction), parameters=body.parameters,
                       reason=body.reason, class_id=class_id)
    db.flush()
    audit(db, caller, "policy.override", class_id, override=row.id, parameters=body.parameters, reason=body.reason)
    db.commit()
    return row


@router.get("/classes", response_model=list[TrainingClassPublic])
def list_classes(db: DB, caller: InstitutionOrInspector,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> list[TrainingClass]:
    return class_page(db, caller, limit, offset)


@router.get("/classes/{class_id}", response_model=TrainingClassPublic)
def read_class(class_id: str, db: DB, caller: InstitutionOrInspector) -> TrainingClass:
    return owned_class(db, caller, class_id)


@router.put("/classes/{class_id}/roster/{trainee_id}/photo", status_code=201)
async def put_roster_photo(class_id: str, trainee_id: str, request: Request, db: DB, caller: Institution, svc: Svc) -> dict[str, Any]:
    """The trainee's enrolment photo (the image bytes as the body). A photo with no face, several
    faces or too small a face is refused (422) naming the trainee. Never overwrites: a new photo
    is the next version; hours already judged keep the version they were judged against until an
    inspector asks for the class to be analysed against the latest."""
    klass = owned_class(db, caller, class_id)
    trainee = next((t for t in klass.manifest.get("roster", []) if t["id"] == trainee_id), None)
    if trainee is None:
        raise not_found(f"trainee {trainee_id} of class {class_id}")
    policy = PolicyBook(db).judged_by(_class_jurisdiction(db, klass, svc.settings.default_jurisdiction),
                                      first_day(klass.manifest), klass.id).policy()
    relative, received = await accept_enrolment_photo(request, svc, "photos", trainee_id, trainee["name"],
                                                       policy.enrolment_min_face_px)
    photo_id = relative.rsplit("/", 1)[1]
    row = add_roster_photo(db, class_id, trainee_id, photo_id, relative, received.sha256)
    audit(db, caller, "class.roster_photo", class_id, trainee=trainee_id, sha256=received.sha256, version=row.version)
    db.commit()
    return {"trainee": trainee_id, "sha256": received.sha256, "size_bytes": received.size, "version": row.version}


def _class_jurisdiction(db: DB, klass: TrainingClass, default: str) -> str:
    return jurisdiction_of(owner_of(db, klass), default)


@router.post("/classes/{class_id}/recordings", status_code=201, response_model=RecordingPublic,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
async def upload_recording(class_id: str, request: Request, response: Response, db: DB, caller: Institution, svc: Svc,
                           name: Annotated[str, Query(min_length=1, max_length=255)],
                           start: Annotated[datetime | None, Query(description="Wall-clock start (ISO-8601 with offset); else the container's creation_time")] = None) -> Recording:
    """One recording as the request body, streamed to disk (sha256 computed on the way), probed,
    and only then stored and acknowledged (201). Sent again (same class, name and bytes), the
    stored recording is the answer (200). For large files over poor links, use /uploads."""
    if start is not None and start.tzinfo is None:
        raise Problem(422, "start: give an offset (e.g. +08:00)", "validation")
    klass = owned_class(db, caller, class_id)
    storage = Storage(svc.storage)
    part = storage.part(f"oneshot-{new_id()}")
    try:
        received = await receive(request.stream(), part, svc.settings.max_upload_bytes, "the recording")
        stored = same_recording(db, klass.id, name, received.sha256)
        if stored is not None:
            response.status_code = 200
            return stored
        facts = await run_in_threadpool(probe_upload, part)
        recording = store_recording(db, storage, caller, klass, part, received.sha256, received.size, name, start, facts)
        db.commit()
        return recording
    finally:
        part.unlink(missing_ok=True)


@router.get("/classes/{class_id}/recordings", response_model=list[RecordingPublic])
def list_recordings(class_id: str, db: DB, caller: InstitutionOrInspector) -> list[Recording]:
    owned_class(db, caller, class_id)
    return recordings_of(db, class_id)


@router.post("/classes/{class_id}/analyses", status_code=202, response_model=JobPublic)
def start_analysis(class_id: str, db: DB, caller: InstitutionOrInspector, svc: Svc,
                   photos: Annotated[str, Query(pattern="^(as-judged|latest)$",
                                                description="inspectors only: `latest` judges every hour against the "
                                                            "newest roster photos")] = "as-judged") -> Job:
    """Queue the analysis of everything uploaded so far; follow it at /jobs/{id}. Each trainee is
    compared with the photo version the class was judged with before (new trainees: the latest);
    an inspector may ask for the latest photos (`photos=latest`)."""
    klass = owned_class(db, caller, class_id)
    if photos == "latest" and caller.role != Role.INSPECTOR:
        raise Problem(403, "only an inspector may have a class judged against newer photos")
    kind = JobKind.ANALYZE_CLASS_LATEST_PHOTOS if photos == "latest" else JobKind.ANALYZE_CLASS
    job = enqueue(db, kind, klass.organisation_id, klass.id)
    audit(db, caller, "class.analyse", klass.id, job=job.id, photos=photos)
    db.commit()
    svc.notify_job(job.id)
    return job


@router.get("/classes/{class_id}/report")
def read_report(class_id: str, db: DB, caller: InstitutionOrInspector) -> dict[str, Any]:
    """The latest finished analysis: the report `monitor analyze --json` prints."""
    owned_class(db, caller, class_id)
    record = latest_report(db, class_id)
    if record is None:
        raise not_found(f"a report of class {class_id} (no analysis has finished yet)")
    return record.body


@router.get("/jobs/{job_id}", response_model=JobPublic, tags=["jobs"])
def read_job(job_id: str, db: DB, caller: InstitutionOrInspector) -> Job:
    return job_for(db, caller, job_id)


