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
from api.jobs.trainees import judge_trainees
from api.core.service import Service
from api.core.storage import Storage
from api.store.classes import first_day, latest_report, roster_photos
from api.store.organisations import PolicyBook, jurisdiction_of
from models.retry import write_unit
from models.tables import ClassReportRecord, HourResult, Job, JobKind, Organisation, Recording, RosterPhoto, TrainingClass
from monitor.footage.analyze import analyze_class
from monitor.footage.report import ClassReport
from monitor.manifest import LoadedClass, check_class_shape, parse_manifest


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


def _photos_to_use(db: Session, klass: TrainingClass, latest: bool) -> list[RosterPhoto]:
    """Per trainee, the photo version the class was judged with before (a photo swapped after
    the fact does not rewrite a verdict), else the newest; all newest when an inspector asks."""
    versions: dict[str, dict[int, RosterPhoto]] = {}
    for row in roster_photos(db, klass.id):
        versions.setdefault(row.trainee_id, {})[row.version] = row
    before = latest_report(db, klass.id)
    pinned = {} if latest or before is None else before.body.get("judged_by", {}).get("photo_versions", {})
    chosen = []
    for trainee, rows in versions.items():
        version = pinned.get(trainee)
        chosen.append(rows[version] if version in rows else rows[max(rows)])
    return chosen


def load_stored_class(db: Session, class_id: str, storage: Storage, default_jurisdiction: str,
                      latest_photos: bool = False) -> tuple[TrainingClass, LoadedClass, dict[str, tuple[str, str]], dict[str, Any]]:
    """The class as the CLI would read it, judged by its jurisdiction's values in force on its
    first day with the authority's overrides; and those values, to embed in the report."""
    klass = db.get(TrainingClass, class_id)
    if klass is None:
        raise LookupError(class_id)
    recordings = list(db.exec(select(Recording).where(Recording.class_id == class_id)
                              .order_by(Recording.created_at, Recording.id)).all())
    photos = _photos_to_use(db, klass, latest_photos)
    manifest = parse_manifest(stored_manifest(klass, recordings, photos, storage))
    owner = db.get(Organisation, klass.organisation_id)
    assert owner is not None  # a foreign key
    judged = PolicyBook(db).judged_by(jurisdiction_of(owner, default_jurisdiction), first_day(manifest), klass.id)
    policy = judged.policy()
    check_class_shape(manifest, policy)
    names = {storage.media(r.id): (r.id, r.original_name) for r in recordings}
    judged_by = judged.as_json(photo_versions={p.trainee_id: p.version for p in photos})
    return klass, LoadedClass(manifest=manifest, policy=policy, base_dir=storage.root), names, judged_by


def with_original_names(report: ClassReport, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The report as the institution knows its files: wherever a field of the report is a stored
    file's path (a file entry's `path`, a frame's `file`, a loop's `original_file`), the name it
    was uploaded under, and beside it that recording's id (`recording_id`, or `<field>_recording_id`):
    names need not be unique, ids are what the pages look frames up by. Free text that quotes a
    stored path (a finding's detail) gets the name too, for people to read."""

    def text(value: str) -> str:
        for stored, (_, original) in names.items():
            if stored in value:
                value = value.replace(stored, original)
        return value

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            for key, stored in value.items():
                if isinstance(stored, str) and stored in names:
                    recording_id, original = names[stored]
                    out[key] = original
                    out["recording_id" if key in ("path", "file") else f"{key}_recording_id"] = recording_id
            return out
        return value

    return walk(json.loads(report.model_dump_json()))


def run_analysis(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    storage = Storage(service.storage)
    with service.session() as db:
        klass, loaded, names, judged_by = load_stored_class(db, job.subject_id or "", storage,
                                                            service.settings.default_jurisdiction,
                                                            job.kind == JobKind.ANALYZE_CLASS_LATEST_PHOTOS)
    evidence = storage.evidence(job.id)
    evidence.mkdir(parents=True, exist_ok=True)
    report = analyze_class(loaded, on_progress=lambda stage, done, total: progress(stage, done / total if total else 0.0),
                           evidence=evidence)
    body = with_original_names(report, names)
    body["judged_by"] = judged_by

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
            # the trainees' person findings (cool-down, yearly limit, two places) with the class's judging
            stored = db.get(TrainingClass, klass.id)
            assert stored is not None  # the report's foreign key
            judge_trainees(db, stored, loaded.policy)
            db.commit()

    write_unit(write)


def _replace_earlier_attempt(db: Session, job_id: str) -> None:
    earlier = db.exec(select(ClassReportRecord.id).where(ClassReportRecord.job_id == job_id)).all()
    if earlier:
        db.exec(delete(HourResult).where(HourResult.report_id.in_(earlier)))  # type: ignore[attr-defined,call-overload]
        db.exec(delete(ClassReportRecord).where(ClassReportRecord.id.in_(earlier)))  # type: ignore[attr-defined,call-overload]
