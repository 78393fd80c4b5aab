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
from api.store.events import mark_dirty
from api.store.organisations import PolicyBook, jurisdiction_of, may_override
from api.store.persons import link_trainees, subjects_of_class, trainees_judged
from models.tables import (ClassAssessment, ClassReportRecord, Job, LateRegistration, OnsiteCheck, Organisation, Recording,
                           RosterPhoto, TraineeAbsence, TrainingClass, Upload, new_id)
from models.types import utcnow
from monitor import attendance
from monitor.findings import RULES
from monitor.policy import Policy, clause_of
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
            "uploads_in_progress": [{"name": u.original_name, "received_bytes": u.received_bytes, "size_bytes": u.size_bytes,
                                     # the share received, when the size was declared and is not exceeded
                                     "fraction": (round(u.received_bytes / u.size_bytes, 4)
                                                  if u.size_bytes and u.received_bytes <= u.size_bytes else None)}
                                    for u in uploads]}


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


def class_policy(db: Session, klass: TrainingClass, default_jurisdiction: str, book: PolicyBook | None = None) -> Policy:
    """The values that judge the class: its institution's jurisdiction's in force on its first
    day, with the authority's overrides (the analysis job reads the same)."""
    return (book or PolicyBook(db)).judged_by(jurisdiction_of(owner_of(db, klass), default_jurisdiction),
                                              first_day(klass.manifest), klass.id).policy()


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


# Opening application, on-site checks, assessment and absences (#17; 004 annex 2: 开班申请 ->
# 开班当日检查、培训期间检查 (signed) -> 结业考核).

def first_hour_start(manifest: ClassManifest | dict[str, Any]) -> datetime:
    schedule = manifest.schedule if isinstance(manifest, ClassManifest) else manifest["schedule"]
    return min(h.start if hasattr(h, "start") else datetime.fromisoformat(h["start"]) for h in schedule)


def refuse_late_registration(db: Session, organisation_id: str, class_ref: str, manifest: ClassManifest,
                             policy: Policy, now: datetime) -> LateRegistration | None:
    """A class registered after its first class hour began is refused (422 class.registered_late)
    unless the authority accepted it for this institution and class id; the acceptance, if used."""
    begins = first_hour_start(manifest)
    if not policy.registration_before_first_hour or now < begins:
        return None
    accepted = db.exec(select(LateRegistration).where(LateRegistration.organisation_id == organisation_id,
                                                      LateRegistration.class_ref == class_ref)).first()
    if accepted is not None:
        return accepted
    raise Problem(422, f"class.registered_late ({clause_of(policy, 'class.registered_late') or RULES['class.registered_late'].clause}): "
                       f"the first class hour began at {begins.isoformat()}; a class is registered before it starts, "
                       "unless the authority accepts the late registration", "class-registered-late")


def accept_late_registration(db: Session, caller: Caller, caller_jurisdiction: str | None, institution: Organisation,
                             institution_jurisdiction: str, class_ref: str, reason: str) -> LateRegistration:
    """The authority (an admin, or the inspectorate of the institution's jurisdiction) accepts
    one class registered late; audited, append-only (accepting again is a 409)."""
    if not may_override(caller.role, caller_jurisdiction, institution_jurisdiction):
        raise Problem(403, f"only an admin or the inspectorate of {institution_jurisdiction} may accept a late registration")
    if institution.kind != "institution":
        raise not_found(f"institution {institution.id}")
    row = LateRegistration(organisation_id=institution.id, class_ref=class_ref, reason=reason, key_id=caller.key.id,
                           person=caller.key.person, authority_id=caller.org_id)
    db.add(row)
    audit(db, caller, "class.late_registration_accepted", institution.id, class_ref=class_ref, reason=reason)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Problem(409, f"the late registration of {class_ref} is accepted already", "duplicate") from None
    return row


def _trainee_ids(klass: TrainingClass) -> set[str]:
    return {t["id"] for t in klass.manifest.get("roster", [])}


def record_onsite_check(db: Session, caller: Caller, klass: TrainingClass, at: datetime, present: int,
                        absent: list[str], note: str) -> OnsiteCheck:
    """An inspector's signed on-site check of a class (004 annex 2); append-only, audited."""
    if caller.role != "inspector":
        raise Problem(403, "only an inspector records an on-site check")
    roster = _trainee_ids(klass)
    unknown = sorted(set(absent) - roster)
    if unknown:
        raise Problem(422, f"absent: not on the class's roster: {', '.join(unknown)}", "validation")
    if present + len(set(absent)) > len(roster):
        raise Problem(422, f"present: {present} present and {len(set(absent))} absent, but the roster has {len(roster)}",
                      "validation")
    row = OnsiteCheck(class_id=klass.id, at=at, present=present, absent=sorted(set(absent)), note=note,
                      key_id=caller.key.id, person=caller.key.person, organisation_id=caller.org_id)
    db.add(row)
    db.flush()
    audit(db, caller, "class.onsite_check", klass.id, check=row.id, at=at.isoformat(), present=present, absent=row.absent)
    db.commit()
    return row


def onsite_checks(db: Session, class_id: str) -> list[OnsiteCheck]:
    return list(db.exec(select(OnsiteCheck).where(OnsiteCheck.class_id == class_id)
                        .order_by(OnsiteCheck.at, OnsiteCheck.id)).all())  # type: ignore[arg-type]


def record_assessment(db: Session, caller: Caller, klass: TrainingClass, assessed_at: datetime) -> ClassAssessment:
    """The class's assessment (结业考核) as its institution reports it: set once (the same again is
    the stored one; another date is a 409), audited. Its trainees' later trainings wait a month
    from it (person.cooldown), so their online sessions are judged again."""
    if assessed_at < first_hour_start(klass.manifest):
        raise Problem(422, "assessed_at: before the class's first class hour", "validation")
    stored = db.get(ClassAssessment, klass.id)
    if stored is not None:
        if stored.assessed_at == assessed_at:
            return stored
        raise Problem(409, f"class {klass.class_ref} was assessed at {stored.assessed_at.isoformat()} already", "duplicate")
    row = ClassAssessment(class_id=klass.id, assessed_at=assessed_at, key_id=caller.key.id, person=caller.key.person)
    db.add(row)
    audit(db, caller, "class.assessment", klass.id, assessed_at=assessed_at.isoformat())
    job = mark_dirty(db, subjects_of_class(db, klass.id))
    db.commit()
    if job is not None:
        db.refresh(job)
    return row


def record_absence(db: Session, caller: Caller, klass: TrainingClass, trainee: str, hour: int, makeup_hour: int | None,
                   reason: str) -> TraineeAbsence:
    """The institution's written leave for a trainee's class hour, with the later hour that makes
    it up; it counts once an inspector accepts it. Append-only, audited."""
    if trainee not in _trainee_ids(klass):
        raise not_found(f"trainee {trainee} of class {klass.id}")
    hours = {h["index"]: h for h in klass.manifest.get("schedule", [])}
    for name, index in (("hour", hour), ("makeup_hour", makeup_hour)):
        if index is not None and index not in hours:
            raise Problem(422, f"{name}: the class has no class hour {index}", "validation")
    if makeup_hour is not None:
        _check_makeup(hours[hour], hours[makeup_hour])
    row = TraineeAbsence(class_id=klass.id, trainee_id=trainee, hour_index=hour, makeup_hour_index=makeup_hour, reason=reason,
                         key_id=caller.key.id, person=caller.key.person)
    db.add(row)
    db.flush()
    audit(db, caller, "class.absence", klass.id, absence=row.id, trainee=trainee, hour=hour, makeup_hour=makeup_hour)
    db.commit()
    return row


def _check_makeup(missed: dict[str, Any], makeup: dict[str, Any]) -> None:
    """A make-up lesson (补课, 003 §21) is a later class hour of the same content: it starts once
    the missed hour has ended, is of the same kind, and teaches the same topic where both name one."""
    if datetime.fromisoformat(makeup["start"]) < datetime.fromisoformat(missed["end"]):
        raise Problem(422, f"makeup_hour: class hour {makeup['index']} does not come after class hour {missed['index']}: "
                           "a make-up lesson is a later one", "validation")
    if makeup["kind"] != missed["kind"]:
        raise Problem(422, f"makeup_hour: class hour {makeup['index']} is {makeup['kind']}, the missed class hour "
                           f"{missed['index']} {missed['kind']}: a make-up lesson has the same content", "validation")
    if missed.get("topic") and makeup.get("topic") and missed["topic"] != makeup["topic"]:
        raise Problem(422, f"makeup_hour: class hour {makeup['index']} teaches {makeup['topic']!r}, the missed class hour "
                           f"{missed['index']} {missed['topic']!r}: a make-up lesson has the same content", "validation")


def accept_absence(db: Session, caller: Caller, klass: TrainingClass, absence_id: int) -> TraineeAbsence:
    """An inspector accepts a recorded leave (once; audited)."""
    if caller.role != "inspector":
        raise Problem(403, "only an inspector accepts a leave")
    row = db.get(TraineeAbsence, absence_id)
    if row is None or row.class_id != klass.id:
        raise not_found(f"absence {absence_id} of class {klass.id}")
    if row.accepted_at is not None:
        return row
    row.accepted_by, row.accepted_key_id, row.accepted_at = caller.key.person, caller.key.id, utcnow()
    db.add(row)
    audit(db, caller, "class.absence_accepted", klass.id, absence=absence_id)
    db.commit()
    return row


def absences_of(db: Session, class_id: str) -> list[TraineeAbsence]:
    return list(db.exec(select(TraineeAbsence).where(TraineeAbsence.class_id == class_id).order_by(TraineeAbsence.id)).all())  # type: ignore[arg-type]


def class_period(db: Session, klass: TrainingClass, policy: Policy) -> dict[str, Any]:
    """The class period as the documents count it (monitor.attendance): attendance per trainee and
    the subsidisable headcount from the latest report's check moments and the inspectors' on-site
    checks; the trainees' person findings (monitor.person); the inspection record's data (004
    annex 2): opening-day and later checks with who signed them, the mean present, the assessment."""
    record = latest_report(db, klass.id)
    checks = onsite_checks(db, klass.id)
    absences = absences_of(db, klass.id)
    assessed = db.get(ClassAssessment, klass.id)
    names = {t["id"]: t.get("name", "") for t in klass.manifest.get("roster", [])}
    period = attendance.class_period(
        names, attendance.hours_of_report(record.body if record else {"hours": klass.manifest.get("schedule", [])}),
        [attendance.OnsiteCount(at=c.at, present=c.present, absent=c.absent, person=c.person) for c in checks],
        [attendance.Absence(trainee=a.trainee_id, hour=a.hour_index, makeup_hour=a.makeup_hour_index,
                            accepted=a.accepted_at is not None) for a in absences], policy, names,
        assessed.assessed_at if assessed else None)
    persons = trainees_judged(db, klass, policy)
    # 004 annex 2 asks for the opening day's checks apart from those during the training: the day
    # of the first class hour, in its own offset (as monitor.attendance counts the opening number)
    first = first_hour_start(klass.manifest)
    return {
        "class_id": klass.id, "class_ref": klass.class_ref, "report_id": record.id if record else None,
        "policy": policy.name,
        "attendance": [t.model_dump(mode="json") for t in period.trainees],
        "headcount": period.headcount.model_dump(mode="json"),
        "findings": [f.model_dump(mode="json") for f in period.findings],
        "persons": {t: {"subsidisable": v.subsidisable, "findings": [f.model_dump(mode="json") for f in v.findings]}
                    for t, v in persons.items()},
        "unlinked": sorted(set(names) - set(persons)),  # trainees without an ID number: no person rules
        "onsite_checks": [{"id": c.id, "at": c.at.isoformat(), "present": c.present, "absent": c.absent, "note": c.note,
                           "person": c.person, "organisation_id": c.organisation_id,
                           "opening_day": c.at.astimezone(first.tzinfo).date() == first.date()} for c in checks],
        "absences": [{"id": a.id, "trainee": a.trainee_id, "hour": a.hour_index, "makeup_hour": a.makeup_hour_index,
                      "reason": a.reason, "recorded_by": a.person,
                      "accepted_by": a.accepted_by, "accepted_at": a.accepted_at.isoformat() if a.accepted_at else None}
                     for a in absences],
        "assessed_at": assessed.assessed_at.isoformat() if assessed else None,
    }


def link_class_trainees(db: Session, caller: Caller, klass: TrainingClass, roster: list[dict[str, Any]], secret: bytes,
                        late: LateRegistration | None) -> None:
    """After a class is registered: its trainees' persons (the ID numbers as keyed hashes), their
    online sessions marked to be judged again (this class is one of their trainings now), and the
    authority's acceptance of a late registration noted in the audit."""
    subjects = link_trainees(db, klass.id, roster, secret)
    mark_dirty(db, subjects)
    if late is not None:
        audit(db, caller, "class.registered_late", klass.id, class_ref=klass.class_ref, accepted_by=late.person,
              acceptance=late.id)
    db.commit()
