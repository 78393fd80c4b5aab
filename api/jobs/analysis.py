"""The analysis job: the class as stored (manifest, uploaded recordings, roster photos) is handed
to the same `analyze_class` the CLI runs; its report is stored as is, with the server's file
names turned back into the names the institution uploaded, so the CLI and the server agree."""

from __future__ import annotations

import json
from typing import Any, Callable

from sqlalchemy import delete
from sqlmodel import Session, select

from api.jobs.flags import raise_or_clear
from api.jobs.runner import finish
from api.service import Service
from api.storage import Storage
from models.retry import write_unit
from models.tables import ClassReportRecord, HourResult, Job, Recording, RosterPhoto, TrainingClass
from monitor.footage.analyze import analyze_class
from monitor.footage.report import ClassReport
from monitor.manifest import LoadedClass, check_class_shape, parse_manifest
from monitor.policy import load_policy


def stored_manifest(klass: TrainingClass, recordings: list[Recording], photos: list[RosterPhoto],
                    storage: Storage) -> dict[str, Any]:
    """The class's manifest with paths into the storage folder (relative to its root)."""
    manifest = dict(klass.manifest)
    photo_of = {p.trainee_id: storage.photo(p.id) for p in photos}
    manifest["roster"] = [{**t, "photo": photo_of.get(t["id"])} for t in manifest.get("roster", [])]
    manifest["recordings"] = [{"path": storage.media(r.id),
                               **({"start": r.declared_start.isoformat()} if r.declared_start else {})}
                              for r in recordings]
    return manifest


def load_stored_class(db: Session, class_id: str, storage: Storage) -> tuple[TrainingClass, LoadedClass, dict[str, str]]:
    klass = db.get(TrainingClass, class_id)
    if klass is None:
        raise LookupError(class_id)
    recordings = list(db.exec(select(Recording).where(Recording.class_id == class_id)
                              .order_by(Recording.created_at, Recording.id)).all())
    photos = list(db.exec(select(RosterPhoto).where(RosterPhoto.class_id == class_id)).all())
    manifest = parse_manifest(stored_manifest(klass, recordings, photos, storage))
    policy = load_policy(manifest.policy, manifest.policy_overrides)
    check_class_shape(manifest, policy)
    names = {storage.media(r.id): r.original_name for r in recordings}
    return klass, LoadedClass(manifest=manifest, policy=policy, base_dir=storage.root), names


def with_original_names(report: ClassReport, names: dict[str, str]) -> dict[str, Any]:
    text = report.model_dump_json()
    for stored, original in names.items():
        # JSON-escape the original name so that a quote in it cannot break the document.
        text = text.replace(stored, json.dumps(original)[1:-1])
    return json.loads(text)


def run_analysis(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    storage = Storage(service.storage)
    with service.session() as db:
        klass, loaded, names = load_stored_class(db, job.subject_id or "", storage)
    evidence = storage.evidence(job.id)
    evidence.mkdir(parents=True, exist_ok=True)
    report = analyze_class(loaded, on_progress=lambda stage, done, total: progress(stage, done / total if total else 0.0),
                           evidence=evidence)
    body = with_original_names(report, names)

    def write() -> None:
        with service.session() as db:
            finish(db, job)  # a write first: the transaction holds the write lock from its start
            _replace_earlier_attempt(db, job.id)
            record = ClassReportRecord(class_id=klass.id, job_id=job.id, body=body)
            db.add(record)
            db.flush()
            for hour in report.hours:
                row = HourResult(report_id=record.id, class_id=klass.id, organisation_id=klass.organisation_id,
                                 index=hour.index, kind=hour.kind, start=hour.start, end=hour.end,
                                 verdict=hour.verdict.value,
                                 headcount_mean=hour.visibility.headcount_mean if hour.visibility else None,
                                 body=next(h for h in body["hours"] if h["index"] == hour.index))
                db.add(row)
                db.flush()
                raise_or_clear(db, "hour", f"{klass.id}#{hour.index}", row.id, klass.organisation_id,
                               hour.verdict.value, [f.rule for f in hour.findings], hour.start)
            db.commit()

    write_unit(write)


def _replace_earlier_attempt(db: Session, job_id: str) -> None:
    earlier = db.exec(select(ClassReportRecord.id).where(ClassReportRecord.job_id == job_id)).all()
    if earlier:
        db.exec(delete(HourResult).where(HourResult.report_id.in_(earlier)))  # type: ignore[attr-defined,call-overload]
        db.exec(delete(ClassReportRecord).where(ClassReportRecord.id.in_(earlier)))  # type: ignore[attr-defined,call-overload]
