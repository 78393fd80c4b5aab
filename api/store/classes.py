"""An institution's classes: registration (the policy is the jurisdiction's, never the
manifest's), roster photos (versioned, never overwritten), recordings (stored once), reports.
A class is found within the caller's organisation only (inspectors see every class)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import Caller, audit
from api.core.problems import Problem, not_found
from api.core.storage import Storage
from models.tables import ClassReportRecord, Job, Organisation, Recording, RosterPhoto, TrainingClass, Upload, new_id
from monitor.footage.media import UnreadableMedia, probe
from monitor.manifest import ClassManifest


def first_day(manifest: ClassManifest | dict[str, Any]) -> date:
    """The day whose rules judge the class: its first class hour's, in the hour's own offset."""
    schedule = manifest.schedule if isinstance(manifest, ClassManifest) else manifest["schedule"]
    starts = [h.start if hasattr(h, "start") else datetime.fromisoformat(h["start"]) for h in schedule]
    return min(starts).date()


def add_roster_photo(db: Session, class_id: str, trainee_id: str, photo_id: str, stored_name: str, sha256: str) -> RosterPhoto:
    """The next version of a trainee's photo; the caller commits."""
    latest = db.exec(select(func.max(RosterPhoto.version)).where(RosterPhoto.class_id == class_id,
                                                                 RosterPhoto.trainee_id == trainee_id)).one()
    row = RosterPhoto(id=photo_id, class_id=class_id, trainee_id=trainee_id, version=(latest or 0) + 1,
                      stored_name=stored_name, sha256=sha256)
    db.add(row)
    return row


def roster_photos(db: Session, class_id: str) -> list[RosterPhoto]:
    return list(db.exec(select(RosterPhoto).where(RosterPhoto.class_id == class_id)
                        .order_by(RosterPhoto.trainee_id, RosterPhoto.version)).all())


def owned_class(db: Session, caller: Caller, class_id: str) -> TrainingClass:
    klass = db.get(TrainingClass, class_id)
    if klass is None or (caller.role != "inspector" and klass.organisation_id != caller.org_id):
        raise not_found(f"class {class_id}")
    return klass


def latest_report(db: Session, class_id: str) -> ClassReportRecord | None:
    return db.exec(select(ClassReportRecord).where(ClassReportRecord.class_id == class_id)
                   .order_by(ClassReportRecord.created_at.desc())).first()  # type: ignore[attr-defined]


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


# Reads for the pages.

def classes_of(db: Session, caller: Caller, limit: int = 200) -> list[TrainingClass]:
    """The caller's classes, newest first (an inspector's: every class)."""
    query = select(TrainingClass).order_by(TrainingClass.created_at.desc())  # type: ignore[attr-defined]
    if caller.role != "inspector":
        query = query.where(TrainingClass.organisation_id == caller.org_id)
    return list(db.exec(query.limit(limit)).all())


def class_by_id(db: Session, class_id: str) -> TrainingClass | None:
    """A class without an ownership check: for the inspectors' pages (the caller checks the role)."""
    return db.get(TrainingClass, class_id)


def trainees_with_photo(db: Session, class_id: str) -> set[str]:
    return set(db.exec(select(RosterPhoto.trainee_id).where(RosterPhoto.class_id == class_id)).all())


def latest_roster_photo(db: Session, class_id: str, trainee_id: str) -> RosterPhoto | None:
    return db.exec(select(RosterPhoto).where(RosterPhoto.class_id == class_id, RosterPhoto.trainee_id == trainee_id)
                   .order_by(RosterPhoto.version.desc())).first()  # type: ignore[attr-defined]


def recording_of_frame(db: Session, class_id: str, ref: dict[str, Any]) -> Recording | None:
    """The stored recording an evidence frame points at: by id, or by file name in older reports;
    never one of another class."""
    recording = db.get(Recording, ref["recording_id"]) if ref.get("recording_id") else db.exec(
        select(Recording).where(Recording.class_id == class_id, Recording.original_name == ref.get("file"))).first()
    return recording if recording is not None and recording.class_id == class_id else None


def progress_of(db: Session, class_id: str) -> dict[str, Any]:
    """The latest analysis of the class, its recordings, and the uploads still coming in."""
    job = db.exec(select(Job).where(Job.subject_id == class_id, Job.kind == "analyze_class")
                  .order_by(Job.created_at.desc())).first()  # type: ignore[attr-defined]
    recordings = db.exec(select(Recording).where(Recording.class_id == class_id)).all()
    uploads = db.exec(select(Upload).where(Upload.class_id == class_id, Upload.recording_id.is_(None))).all()  # type: ignore[union-attr]
    report = None if job is None else db.exec(select(ClassReportRecord.id).where(ClassReportRecord.job_id == job.id)).first()
    return {"job": None if job is None else {"id": job.id, "status": job.status, "stage": job.stage,
                                             "progress": job.progress, "error": job.error, "report": report},
            "recordings": len(recordings),
            "uploads_in_progress": [{"name": u.original_name, "received_bytes": u.received_bytes} for u in uploads]}


# The class routes' reads and writes.

def add_class(db: Session, caller: Caller, class_ref: str, profile: str, body: dict[str, Any],
                   jurisdiction: str) -> tuple[TrainingClass, bool]:
    """The class and whether it is new. The same manifest registered again (a retry after a lost
    answer) is the class registered; another manifest under a class id already used is a 409."""
    klass = TrainingClass(organisation_id=caller.org_id, class_ref=class_ref, policy=profile, manifest=body)
    db.add(klass)
    audit(db, caller, "class.register", klass.id, class_ref=class_ref, jurisdiction=jurisdiction)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        registered = db.exec(select(TrainingClass).where(TrainingClass.organisation_id == caller.org_id,
                                                         TrainingClass.class_ref == class_ref)).first()
        if registered is not None and registered.manifest == body:
            return registered, False
        raise Problem(409, f"class {class_ref} is already registered by this institution", "duplicate") from None
    return klass, True


def owner_of(db: Session, klass: TrainingClass) -> Organisation:
    owner = db.get(Organisation, klass.organisation_id)
    assert owner is not None  # a foreign key
    return owner


def class_page(db: Session, caller: Caller, limit: int, offset: int) -> list[TrainingClass]:
    """Newest first: an inspector's of every institution, an institution's of its own."""
    query = select(TrainingClass).order_by(TrainingClass.created_at.desc(), TrainingClass.id)  # type: ignore[attr-defined]
    if caller.role != "inspector":
        query = query.where(TrainingClass.organisation_id == caller.org_id)
    return list(db.exec(query.offset(offset).limit(limit)).all())


def recordings_of(db: Session, class_id: str) -> list[Recording]:
    return list(db.exec(select(Recording).where(Recording.class_id == class_id).order_by(Recording.created_at)).all())  # type: ignore[arg-type]


def job_for(db: Session, caller: Caller, job_id: str) -> Job:
    """A job its organisation or an inspector may follow; anyone else's is a 404."""
    job = db.get(Job, job_id)
    if job is None or (caller.role != "inspector" and job.organisation_id != caller.org_id):
        raise not_found(f"job {job_id}")
    return job
