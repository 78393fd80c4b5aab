"""Institutions: register a class, give its roster photos and recordings, run the analysis, read
the report. Inspectors read any class; an institution only its own (another's is a 404)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import DB, Caller, Institution, InstitutionOrInspector, Svc, audit
from api.jobs.runner import enqueue
from api.photos import accept_enrolment_photo
from api.limits import ingest_limit
from api.problems import Problem, documented, not_found
from api.storage import Storage, receive
from models.tables import (ClassReportRecord, Job, JobPublic, Recording, RecordingPublic, RosterPhoto, TrainingClass,
                           TrainingClassPublic, new_id)
from monitor.footage.media import UnreadableMedia, probe
from monitor.manifest import ClassManifest, check_class_shape
from monitor.policy import load_policy

router = APIRouter(tags=["classes"])


def owned_class(db: Session, caller: Caller, class_id: str) -> TrainingClass:
    klass = db.get(TrainingClass, class_id)
    if klass is None or (caller.role != "inspector" and klass.organisation_id != caller.org_id):
        raise not_found(f"class {class_id}")
    return klass


@router.post("/classes", status_code=201, response_model=TrainingClassPublic)
def register_class(manifest: ClassManifest, db: DB, caller: Institution, response: Response) -> TrainingClass:
    """The manifest of `monitor analyze`; its recordings and photos are uploaded separately, so
    their paths here are ignored. A class that breaks A5 is refused (422, naming the rule). The
    same manifest registered again (a retry after a lost answer) is the class registered (200);
    another manifest under a class id already used is a conflict (409)."""
    policy = load_policy(manifest.policy, manifest.policy_overrides)
    check_class_shape(manifest, policy)
    body = manifest.model_dump(mode="json", exclude={"recordings"})
    body["roster"] = [{k: v for k, v in t.items() if k != "photo"} for t in body["roster"]]
    klass = TrainingClass(organisation_id=caller.org_id, class_ref=manifest.class_id, policy=manifest.policy, manifest=body)
    db.add(klass)
    audit(db, caller, "class.register", klass.id, class_ref=manifest.class_id)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        registered = db.exec(select(TrainingClass).where(TrainingClass.organisation_id == caller.org_id,
                                                         TrainingClass.class_ref == manifest.class_id)).first()
        if registered is not None and registered.manifest == body and registered.policy == manifest.policy:
            response.status_code = 200
            return registered
        raise Problem(409, f"class {manifest.class_id} is already registered by this institution", "duplicate") from None
    return klass


@router.get("/classes", response_model=list[TrainingClassPublic])
def list_classes(db: DB, caller: InstitutionOrInspector,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> list[TrainingClass]:
    query = select(TrainingClass).order_by(TrainingClass.created_at.desc(), TrainingClass.id)  # type: ignore[attr-defined]
    if caller.role != "inspector":
        query = query.where(TrainingClass.organisation_id == caller.org_id)
    return list(db.exec(query.offset(offset).limit(limit)).all())


@router.get("/classes/{class_id}", response_model=TrainingClassPublic)
def read_class(class_id: str, db: DB, caller: InstitutionOrInspector) -> TrainingClass:
    return owned_class(db, caller, class_id)


def latest_report(db: Session, class_id: str) -> ClassReportRecord | None:
    return db.exec(select(ClassReportRecord).where(ClassReportRecord.class_id == class_id)
                   .order_by(ClassReportRecord.created_at.desc())).first()  # type: ignore[attr-defined]


@router.put("/classes/{class_id}/roster/{trainee_id}/photo", status_code=201)
async def put_roster_photo(class_id: str, trainee_id: str, request: Request, db: DB, caller: Institution, svc: Svc) -> dict[str, Any]:
    """The trainee's enrolment photo (the image bytes as the body). A photo with no face, several
    faces or too small a face is refused (422) naming the trainee; an earlier photo stays."""
    klass = owned_class(db, caller, class_id)
    trainee = next((t for t in klass.manifest.get("roster", []) if t["id"] == trainee_id), None)
    if trainee is None:
        raise not_found(f"trainee {trainee_id} of class {class_id}")
    policy = load_policy(klass.policy, klass.manifest.get("policy_overrides", {}))
    relative, received = await accept_enrolment_photo(request, svc, "photos", trainee_id, trainee["name"],
                                                       policy.enrolment_min_face_px)
    photo_id = relative.rsplit("/", 1)[1]
    old = db.exec(select(RosterPhoto).where(RosterPhoto.class_id == class_id, RosterPhoto.trainee_id == trainee_id)).first()
    if old is not None:
        db.delete(old)
        db.flush()
    db.add(RosterPhoto(id=photo_id, class_id=class_id, trainee_id=trainee_id, stored_name=relative,
                       sha256=received.sha256))
    audit(db, caller, "class.roster_photo", class_id, trainee=trainee_id, sha256=received.sha256)
    db.commit()
    return {"trainee": trainee_id, "sha256": received.sha256, "size_bytes": received.size}


def probe_upload(path: Path) -> dict[str, Any]:
    """Refuse what cannot be analysed before acknowledging it (422, nothing else touched)."""
    try:
        timeline = probe(path)
    except UnreadableMedia as exc:
        raise Problem(422, f"the upload is not a usable recording: {exc}", "unreadable-media") from None
    duration = float(timeline.times_s[-1] - timeline.times_s[0] + timeline.frame_duration_s) if len(timeline.times_s) else 0.0
    return {"duration_s": round(duration, 3), "width": timeline.width, "height": timeline.height, "codec": timeline.codec}


def same_recording(db: Session, class_id: str, name: str, sha256: str) -> Recording | None:
    """The same bytes under the same name in the same class are one recording: a client that
    sends again after losing the answer (the server restarted, the link dropped) gets the stored
    one, not a second copy that would be counted twice."""
    return db.exec(select(Recording).where(Recording.class_id == class_id, Recording.original_name == name,
                                           Recording.sha256 == sha256)).first()


def store_recording(db: Session, storage: Storage, caller: Caller, klass: TrainingClass, part: Path, sha256: str,
                    size: int, name: str, start: datetime | None, facts: dict[str, Any],
                    recording_id: str | None = None) -> Recording:
    """Move the probed file into place and add its row; the caller commits. Killed in between,
    the file exists without a row (no recording); never a row without its whole file."""
    recording = Recording(id=recording_id or new_id(), class_id=klass.id, organisation_id=klass.organisation_id, original_name=name,
                          declared_start=start, stored_name="", sha256=sha256, size_bytes=size, **facts)
    recording.stored_name = storage.media(recording.id)
    storage.commit(part, recording.stored_name)
    db.add(recording)
    audit(db, caller, "recording.upload", recording.id, class_id=klass.id, name=name, sha256=sha256, size_bytes=size)
    return recording


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
    return list(db.exec(select(Recording).where(Recording.class_id == class_id).order_by(Recording.created_at)).all())


@router.post("/classes/{class_id}/analyses", status_code=202, response_model=JobPublic)
def start_analysis(class_id: str, db: DB, caller: Institution, svc: Svc) -> Job:
    """Queue the analysis of everything uploaded so far; follow it at /jobs/{id}."""
    klass = owned_class(db, caller, class_id)
    job = enqueue(db, "analyze_class", klass.organisation_id, klass.id)
    audit(db, caller, "class.analyse", klass.id, job=job.id)
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
    job = db.get(Job, job_id)
    if job is None or (caller.role != "inspector" and job.organisation_id != caller.org_id):
        raise not_found(f"job {job_id}")
    return job


