"""The judging job: subjects whose evidence changed are judged again over all their events, by
the same OnlineEngine the CLI runs. Their session rows and flags are replaced in one transaction
with the job's end.

A subject is a person (the keyed hash of the real-name ID number) with every learner that any
platform enrolled for them, or a learner with no person id alone: only a supervision point that
sees every platform can see one person learning on two at once (B2) or starting a course while
another platform's is unassessed (B8). Everything else stays the platform's own: before the
engine sees them, each event's session, course and id are scoped to its learner or platform
(`<learner id>:<session>`, `<platform id>:<course>`), so two platforms that use the same names
never share a course, a session, an event or a challenge; photos are looked up by learner and
version. The scoping is taken off again in what is stored.

Each session is judged by its platform's jurisdiction's profile in force on its first day, with
the authority's overrides, and the row embeds those values. A subject whose judging fails is
kept as a `judging.failed` item for inspectors and tried again later; the rest are judged."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

import msgspec
from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from api.jobs.flags import SubjectState, raise_or_clear_all
from api.jobs.runner import finish
from api.core.service import Service
from api.core.settings import ServiceSettings
from api.store.events import insert_ignoring_conflicts
from api.store.faces import challenges_of, photo_versions
from api.store.organisations import JudgedBy, PolicyBook, jurisdiction_of
from api.store.persons import class_history
from models.retry import write_unit
from models.tables import (Assessment, Course, DirtyLearner, Event, Job, JudgingFailure, Learner, LearnerPhoto,
                           LearnerSession, Organisation, SubjectKind, new_id)
from models.types import utcnow
from monitor.faces.cache import FacesCache
from monitor.faces.challenge import Challenge
from monitor.faces.enrol import EncodingCache
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine, SessionReport
from monitor.online.events import LearningEvent
from monitor.online.faces import CAPTURE_TYPES, FaceChecks

log = logging.getLogger("monitor.jobs")
BATCH_LEARNERS = 500
RETRY_FIRST_S = 60.0  # a failed subject is tried again after this, doubling each time
RETRY_MAX_S = 6 * 3600.0
_CHUNK = 500
_DECODE = msgspec.json.Decoder(LearningEvent)
_SCOPED = re.compile(r"\b[0-9a-f]{32}:")
_SUBJECT = re.compile(r"\b[pl]:[0-9a-f]{32,64}\b")


def _chunks(items: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class Loaded:
    """What one batch of subjects is judged from, read once."""

    learners: dict[str, Learner]  # by learner id
    organisations: dict[str, Organisation]
    events: list[LearningEvent]  # scoped, as the engine sees them
    sessions: dict[str, tuple[str, str, datetime]]  # scoped session -> (learner id, session ref, first instant)
    pinned: dict[str, int | None]  # scoped session -> the photo version it was judged with before


def _scoped(e: LearningEvent, learner: Learner) -> LearningEvent:
    """The event as the engine sees it: the subject as learner, the platform's id as platform,
    and the session, course and id scoped (see the module's docstring)."""
    fields = msgspec.structs.asdict(e)
    fields.update(id=f"{learner.organisation_id}:{e.id}", learner=learner.subject, platform=learner.organisation_id,
                  session=f"{learner.id}:{e.session}", course=f"{learner.organisation_id}:{e.course}")
    return LearningEvent(**fields)


def _learners_of(db: Session, subjects: list[str]) -> dict[str, Learner]:
    persons = [s[2:] for s in subjects if s.startswith("p:")]
    ids = [s[2:] for s in subjects if s.startswith("l:")]
    found: dict[str, Learner] = {}
    for chunk in _chunks(persons):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.person_hash.in_(chunk))).all())  # type: ignore[union-attr]
    for chunk in _chunks(ids):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.id.in_(chunk))).all())  # type: ignore[attr-defined]
    # A learner given a person id since it was marked: judged with its person.
    more = sorted({r.person_hash for r in found.values() if r.person_hash} - set(persons))
    for chunk in _chunks(more):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.person_hash.in_(chunk))).all())  # type: ignore[union-attr]
    return found


def load(db: Session, subjects: list[str]) -> Loaded:
    learners = _learners_of(db, subjects)
    organisations = {o.id: o for o in db.exec(select(Organisation).where(
        Organisation.id.in_({r.organisation_id for r in learners.values()}))).all()}  # type: ignore[attr-defined]
    events: list[LearningEvent] = []
    sessions: dict[str, tuple[str, str, datetime]] = {}
    for chunk in _chunks(sorted(learners)):
        for learner_id, body in db.exec(select(Event.learner_id, Event.body).where(Event.learner_id.in_(chunk))).all():  # type: ignore[union-attr]
            raw = _DECODE.decode(body)
            e = _scoped(raw, learners[learner_id])
            events.append(e)
            known = sessions.get(e.session)
            if known is None or raw.at < known[2]:
                sessions[e.session] = (learner_id, raw.session, raw.at)
    # The photo version each session was first judged with (None: it had none), unless an
    # inspector asked for it to be judged against the latest.
    pinned: dict[str, int | None] = {}
    for chunk in _chunks(sorted(learners)):
        for learner_id, session, judged_by in db.exec(select(LearnerSession.learner_id, LearnerSession.session,
                                                             LearnerSession.judged_by)
                                                      .where(LearnerSession.learner_id.in_(chunk))).all():  # type: ignore[union-attr]
            if judged_by and "photo_version" in judged_by and not judged_by.get("photo_unpinned"):
                pinned[f"{learner_id}:{session}"] = judged_by["photo_version"]
    return Loaded(learners, organisations, events, sessions, pinned)


def _catalogue(db: Session, loaded: Loaded) -> Catalogue:
    """Each platform's own courses (scoped by platform) and the subjects' assessments from every
    platform that reported them: a person's earlier training counts wherever it was."""
    orgs = sorted({r.organisation_id for r in loaded.learners.values()})
    courses = {f"{c.organisation_id}:{c.course_ref}": c.body
               for chunk in _chunks(orgs) for c in db.exec(select(Course).where(Course.organisation_id.in_(chunk))).all()}  # type: ignore[attr-defined]
    history: dict[str, list[dict[str, Any]]] = {}
    by_org: dict[str, dict[str, Learner]] = {}
    for learner in loaded.learners.values():
        by_org.setdefault(learner.organisation_id, {})[learner.learner_ref] = learner
    for org, refs in by_org.items():
        for chunk in _chunks(sorted(refs)):
            for a in db.exec(select(Assessment).where(Assessment.organisation_id == org,
                                                      Assessment.learner.in_(chunk))).all():  # type: ignore[attr-defined]
                history.setdefault(refs[a.learner].subject, []).append(
                    {"course": f"{org}:{a.course}", "assessed_at": a.assessed_at})
    # The persons' classroom classes too (#17: the person rules over classes and courses alike).
    for subject, classes in class_history(db, [r.person_hash for r in loaded.learners.values() if r.person_hash]).items():
        history.setdefault(subject, []).extend(classes)
    return Catalogue.model_validate({"courses": courses, "history": history})


def _face_checks(db: Session, settings: ServiceSettings, loaded: Loaded, judged: JudgedBy,
                 photos: dict[str, list[LearnerPhoto]]) -> tuple[FaceChecks, dict[str, int | None]]:
    """Captures are files named by their ids under storage/captures. Every learner's photos, by
    learner and version: a capture that copies anyone's enrolment photo is a replay. Each session
    is compared with the version it was judged with before, else the latest."""
    storage = settings.storage
    every = db.exec(select(LearnerPhoto)).all()  # the enrolment photos of everyone, for copies
    enrolment = {f"{p.learner_id}#{p.version}": storage / p.stored_name for p in every}
    version_of: dict[str, int | None] = {}
    for session, (learner_id, _, _) in loaded.sessions.items():
        versions = [p.version for p in photos.get(learner_id, [])]
        if session in loaded.pinned and (loaded.pinned[session] is None or loaded.pinned[session] in versions):
            version_of[session] = loaded.pinned[session]
        else:
            version_of[session] = versions[-1] if versions else None

    def photo_key(e: LearningEvent) -> str:
        learner_id = e.session.split(":", 1)[0]
        return f"{learner_id}#{version_of.get(e.session)}"

    learners = list(loaded.learners.values())
    by_ref = {(r.organisation_id, r.learner_ref): r for r in learners}
    challenges = [Challenge(by_ref[(c.organisation_id, c.learner)].subject,
                            f"{by_ref[(c.organisation_id, c.learner)].id}:{c.session}", c.at, c.prompt, c.nonce)
                  for c in challenges_of(db, learners)]
    checks = FaceChecks(judged.policy(), enrolment, storage / "captures", EncodingCache(settings.cache_dir),
                        FacesCache(settings.cache_dir), challenges, photo_key=photo_key)
    return checks, version_of


def _judged_by(loaded: Loaded, book: PolicyBook, settings: ServiceSettings) -> dict[str, JudgedBy]:
    """Per scoped session: its platform's jurisdiction's values in force on its first day."""
    out = {}
    for session, (learner_id, _, first) in loaded.sessions.items():
        org = loaded.organisations[loaded.learners[learner_id].organisation_id]
        out[session] = book.judged_by(jurisdiction_of(org, settings.default_jurisdiction), first.date())
    return out


def _other_captures(db: Session, learner_ids: set[str]) -> list[LearningEvent]:
    """Other learners' captures, for replays across learners (judged in other batches)."""
    rows = db.exec(select(Event.organisation_id, Event.learner_id, Event.body).where(
        Event.type.in_(list(CAPTURE_TYPES)))).all()  # type: ignore[attr-defined]
    out = []
    for org, learner_id, body in rows:
        if learner_id in learner_ids:
            continue
        e = _DECODE.decode(body)
        fields = msgspec.structs.asdict(e)
        fields.update(id=f"{org}:{e.id}", learner=f"l:{learner_id}", platform=org, session=f"{learner_id}:{e.session}",
                      course=f"{org}:{e.course}")
        out.append(LearningEvent(**fields))
    return out


@dataclass
class Judged:
    report: SessionReport
    judged_by: dict[str, Any]


def judge(db: Session, settings: ServiceSettings, loaded: Loaded, book: PolicyBook) -> list[Judged]:
    """Every session of the loaded subjects, each by its own values. One engine per distinct set
    of values, fed the events of the subjects that have a session under it (a subject's rules
    look across all its sessions); usually one."""
    per_session = _judged_by(loaded, book, settings)
    groups: dict[tuple[Any, ...], list[str]] = {}
    for session, judged in per_session.items():
        groups.setdefault(judged.key(), []).append(session)
    catalogue = _catalogue(db, loaded)
    photos = photo_versions(db, loaded.learners) if settings.online_face_checks else {}
    others = _other_captures(db, set(loaded.learners)) if settings.online_face_checks else []
    out: list[Judged] = []
    for sessions in groups.values():
        judged = per_session[sessions[0]]
        wanted = set(sessions)
        subjects = {loaded.learners[loaded.sessions[s][0]].subject for s in sessions}
        faces, version_of = (_face_checks(db, settings, loaded, judged, photos) if settings.online_face_checks
                             else (None, {}))
        engine = OnlineEngine(judged.policy(), catalogue, faces)
        mine = [e for e in loaded.events if e.learner in subjects]
        for course in {e.course for e in mine}:
            org, ref = course.split(":", 1)
            units = db.exec(select(Event.unit).where(Event.organisation_id == org, Event.course == ref,
                                                     Event.unit.is_not(None)).distinct()).all()  # type: ignore[union-attr]
            engine.know_units(course, [u for u in units if u])
        if faces is not None:
            engine.know_captures(others)
        engine.add(mine)
        for report in engine.sessions():
            if report.session in wanted:
                more: dict[str, Any] = {"face_checks": settings.online_face_checks}
                if settings.online_face_checks:
                    more["photo_version"] = version_of.get(report.session)
                out.append(Judged(report, judged.as_json(**more)))
    return out


def _take(db: Session, job: Job) -> list[str]:
    """Up to a batch of dirty subjects, taken by this job (or taken before by an attempt of it
    that died); subjects waiting out a failure's back-off are left for later."""
    waiting = select(JudgingFailure.subject).where(JudgingFailure.retry_after > utcnow())
    free = (select(DirtyLearner.learner).where(or_(DirtyLearner.job_id.is_(None), DirtyLearner.job_id == job.id),  # type: ignore[union-attr]
                                               DirtyLearner.learner.not_in(waiting))  # type: ignore[attr-defined]
            .order_by(DirtyLearner.since).limit(BATCH_LEARNERS))
    db.exec(update(DirtyLearner).where(DirtyLearner.learner.in_(free.scalar_subquery())).values(job_id=job.id))  # type: ignore[attr-defined,call-overload]
    return list(db.exec(select(DirtyLearner.learner).where(DirtyLearner.job_id == job.id)).all())


def _judge_isolated(service: Service, subjects: list[str]) -> tuple[list[Judged], dict[str, str]]:
    """Judge the batch; if that fails, each subject alone, so one subject's poison fails only it."""
    settings = service.settings

    def attempt(group: list[str]) -> list[Judged]:
        with service.session() as db:
            book = PolicyBook(db)
            out = judge(db, settings, load(db, group), book)
            db.commit()
            return out

    try:
        return attempt(subjects), {}
    except Exception:  # noqa: BLE001 - any failure: find the subject(s) it belongs to
        if len(subjects) == 1:
            log.exception("judging %s failed", subjects[0])
            return [], {subjects[0]: _reason()}
    judged: list[Judged] = []
    failed: dict[str, str] = {}
    for subject in subjects:
        try:
            judged.extend(attempt([subject]))
        except Exception:  # noqa: BLE001
            log.exception("judging %s failed", subject)
            failed[subject] = _reason()
    return judged, failed


def _reason() -> str:
    import sys

    exc = sys.exc_info()[1]
    return f"{type(exc).__name__}: {exc}"[:2000]


def run_judging(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    """Batches of dirty subjects: take them (a write), read and judge, then store the sessions and
    drop the marks in one write unit; until none is left. Subjects whose events came in while
    they were judged were handed back by ingest and are judged in the next round."""
    while True:
        subjects = write_unit(lambda: _taken(service, job))
        if not subjects:
            def done() -> None:
                with service.session() as db:
                    finish(db, job)
                    db.commit()

            write_unit(done)
            return
        progress(f"judging {len(subjects)} learners", 0.5)
        judged, failed = _judge_isolated(service, subjects)

        def write() -> None:
            with service.session() as db:
                _store_all(db, judged)
                _record_failures(db, failed, [s for s in subjects if s not in failed])
                db.exec(delete(DirtyLearner).where(DirtyLearner.job_id == job.id,  # type: ignore[call-overload]
                                                   DirtyLearner.learner.not_in(list(failed))))  # type: ignore[attr-defined]
                if failed:  # left marked, free, for a later job once their back-off has passed
                    db.exec(update(DirtyLearner).where(DirtyLearner.job_id == job.id).values(job_id=None))  # type: ignore[call-overload]
                db.commit()

        write_unit(write)
        if failed and set(failed) == set(subjects):
            # Only failures were left in this round: let the back-off run; a later job takes them.
            def later() -> None:
                with service.session() as db:
                    finish(db, job)
                    db.commit()

            write_unit(later)
            return


def _record_failures(db: Session, failed: dict[str, str], succeeded: list[str]) -> None:
    """A failure is kept for inspectors with its reason and the next try; a success clears it."""
    now = utcnow()
    if succeeded:
        for chunk in _chunks(succeeded):
            db.exec(delete(JudgingFailure).where(JudgingFailure.subject.in_(chunk)))  # type: ignore[attr-defined,call-overload]
    for subject, reason in failed.items():
        row = db.get(JudgingFailure, subject)
        if row is None:
            row = JudgingFailure(subject=subject, reason=reason, attempts=1,
                                 retry_after=now + timedelta(seconds=RETRY_FIRST_S))
        else:
            row.attempts += 1
            row.reason, row.updated_at = reason, now
            row.retry_after = now + timedelta(seconds=min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (row.attempts - 1)))
        db.add(row)


def _taken(service: Service, job: Job) -> list[str]:
    with service.session() as db:
        subjects = _take(db, job)
        db.commit()
        return subjects


def _unscoped(value: Any, names: dict[str, str], subject: str = "", learner_ref: str = "") -> Any:
    """A finding as people read it: scoped names back to the platforms' own, platform ids to
    names, the subject to the session's own learner id (a person's hash is never shown)."""
    if isinstance(value, str):
        text = _SUBJECT.sub(lambda m: learner_ref if m.group(0) == subject else "another learner", value)
        text = _SCOPED.sub("", text)
        for org_id, name in names.items():
            if org_id in text:
                text = text.replace(org_id, name)
        return text
    if isinstance(value, list):
        return [_unscoped(v, names, subject, learner_ref) for v in value]
    if isinstance(value, dict):
        out = {k: _unscoped(v, names, subject, learner_ref) for k, v in value.items()}
        if isinstance(value.get("other_platform"), str) and value["other_platform"] in names:
            out["other_platform_id"] = value["other_platform"]  # for hiding another platform's side from a platform
        return out
    return value


def _store_all(db: Session, judged: list[Judged]) -> None:
    """Upsert the sessions' rows in one statement (safe even if two judges ever met on one
    learner), then raise or clear their flags in bulk: the write lock is held briefly."""
    if not judged:
        return
    now = utcnow()
    names = {o.id: o.name for o in db.exec(select(Organisation)).all()}
    wanted = sorted({j.report.session.split(":", 1)[0] for j in judged})
    learners = {r.id: r for chunk in _chunks(wanted)
                for r in db.exec(select(Learner).where(Learner.id.in_(chunk))).all()}  # type: ignore[attr-defined]
    rows = []
    for j in judged:
        r = j.report
        learner_id, session = r.session.split(":", 1)
        learner = learners[learner_id]
        rows.append(dict(id=new_id(), learner_id=learner_id, learner=learner.learner_ref, platform=names.get(r.platform, r.platform),
                         session=session, organisation_id=r.platform, course=r.course.split(":", 1)[1],
                         verdict=r.verdict.value, credited_s=r.credited_s, start=_instant(r.start), end=_instant(r.end),
                         events=r.events, findings=[_unscoped(f.model_dump(mode="json"), names, r.learner, learner.learner_ref)
                                                   for f in r.findings],
                         judged_by=j.judged_by, updated_at=now))
    key = ["learner_id", "session"]
    insert_ignoring_conflicts(db, LearnerSession.__table__, rows, key,  # type: ignore[arg-type]
                              update=[c for c in rows[0] if c not in ("id", *key)])
    ids: dict[tuple[str, str], str] = {}
    for chunk in _chunks(sorted({r["learner_id"] for r in rows})):
        for row_id, learner_id, session in db.exec(
                select(LearnerSession.id, LearnerSession.learner_id, LearnerSession.session)
                .where(LearnerSession.learner_id.in_(chunk))).all():  # type: ignore[union-attr]
            ids[(learner_id, session)] = row_id
    subjects = [SubjectState(SubjectKind.SESSION, ids[(r["learner_id"], r["session"])], ids[(r["learner_id"], r["session"])],
                             r["organisation_id"], r["verdict"], [f["rule"] for f in r["findings"]], r["start"]) for r in rows]
    raise_or_clear_all(db, subjects)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
