"""The judging job: learners whose events changed are judged again over all their events, from
every platform (only a supervision point that sees every platform can see one learner on two at
once, B2), by the same OnlineEngine the CLI runs. Their session rows and flags are replaced in one
transaction with the job's end."""

from __future__ import annotations

from typing import Callable

import msgspec
from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from api.ingest import insert_ignoring_conflicts
from api.jobs.flags import SubjectState, raise_or_clear_all
from api.jobs.runner import finish
from api.service import Service
from api.settings import ServiceSettings
from models.retry import write_unit
from models.tables import Assessment, ChallengeRecord, Course, DirtyLearner, Event, Job, LearnerPhoto, LearnerSession, Organisation, new_id
from models.types import utcnow
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.events import LearningEvent
from monitor.faces.cache import FacesCache
from monitor.faces.challenge import Challenge
from monitor.faces.enrol import EncodingCache
from monitor.online.faces import FaceChecks
from monitor.policy import Policy, load_policy

BATCH_LEARNERS = 500
_DECODE = msgspec.json.Decoder(LearningEvent)


def catalogue_for(db: Session, learners: list[str]) -> Catalogue:
    courses = {c.course_ref: c.body for c in db.exec(select(Course)).all()}
    history: dict[str, list[dict]] = {}
    for a in db.exec(select(Assessment).where(Assessment.learner.in_(learners))).all():  # type: ignore[attr-defined]
        history.setdefault(a.learner, []).append({"course": a.course, "assessed_at": a.assessed_at})
    return Catalogue.model_validate({"courses": courses, "history": history})


def face_checks_for(db: Session, settings: ServiceSettings, learners: list[str]) -> FaceChecks:
    """Captures are files named by their ids under storage/captures; enrolment photos are the
    platforms' latest, under storage/learner-photos."""
    storage = settings.storage
    # Every enrolment photo: a capture that copies anyone's enrolment photo is a replay.
    photos = db.exec(select(LearnerPhoto)).all()
    # The challenges handed out for these learners: their captures must answer them (a nonce of
    # anyone else's reads as answering no challenge of theirs: a replay all the same).
    handed_out = db.exec(select(ChallengeRecord).where(ChallengeRecord.learner.in_(learners))).all()  # type: ignore[attr-defined]
    challenges = [Challenge(c.learner, c.session, c.at, c.prompt, c.nonce) for c in handed_out]
    return FaceChecks(policy_of(settings), {p.learner: storage / p.stored_name for p in photos}, storage / "captures",
                      EncodingCache(settings.cache_dir), FacesCache(settings.cache_dir), challenges)


def policy_of(settings: ServiceSettings) -> Policy:
    return load_policy(settings.online_policy, settings.online_policy_overrides)


def judge_learners(db: Session, settings: ServiceSettings, learners: list[str]) -> OnlineEngine:
    faces = face_checks_for(db, settings, learners) if settings.online_face_checks else None
    engine = OnlineEngine(policy_of(settings), catalogue_for(db, learners), faces)
    bodies = db.exec(select(Event.body).where(Event.learner.in_(learners))).all()  # type: ignore[attr-defined]
    events = [_DECODE.decode(body) for body in bodies]
    for course in {e.course for e in events}:
        units = db.exec(select(Event.unit).where(Event.course == course, Event.unit.is_not(None)).distinct()).all()  # type: ignore[union-attr]
        engine.know_units(course, [u for u in units if u])
    if faces is not None:  # other learners' captures, for replays across learners (judged in other batches)
        others = db.exec(select(Event.body).where(Event.type.in_(["face_capture", "photo_kept"]),  # type: ignore[attr-defined]
                                                  Event.learner.not_in(learners))).all()  # type: ignore[attr-defined]
        engine.know_captures(_DECODE.decode(body) for body in others)
    engine.add(events)
    return engine


def _take_learners(db: Session, job: Job) -> list[str]:
    """Up to a batch of dirty learners, taken by this job (or taken before by an attempt of it
    that died)."""
    free = (select(DirtyLearner.learner).where(or_(DirtyLearner.job_id.is_(None), DirtyLearner.job_id == job.id))  # type: ignore[union-attr]
            .order_by(DirtyLearner.since).limit(BATCH_LEARNERS))
    db.exec(update(DirtyLearner).where(DirtyLearner.learner.in_(free.scalar_subquery())).values(job_id=job.id))  # type: ignore[attr-defined,call-overload]
    return list(db.exec(select(DirtyLearner.learner).where(DirtyLearner.job_id == job.id)).all())


def run_judging(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    """Batches of dirty learners: take them (a write), read and judge, then store the sessions and
    drop the marks in one write unit; until none is left. Learners whose events came in while
    they were judged were handed back by ingest and are judged in the next round."""
    while True:
        learners = write_unit(lambda: _taken(service, job))
        if not learners:
            def done() -> None:
                with service.session() as db:
                    finish(db, job)
                    db.commit()

            write_unit(done)
            return
        progress(f"judging {len(learners)} learners", 0.5)
        with service.session() as db:
            engine = judge_learners(db, service.settings, learners)
            org_of = {o.name: o.id for o in db.exec(select(Organisation).where(Organisation.kind == "platform")).all()}
            db.commit()
        reports = engine.sessions()

        def write() -> None:
            with service.session() as db:
                _store_all(db, reports, org_of)
                db.exec(delete(DirtyLearner).where(DirtyLearner.job_id == job.id))  # type: ignore[call-overload]
                db.commit()

        write_unit(write)


def _taken(service: Service, job: Job) -> list[str]:
    with service.session() as db:
        learners = _take_learners(db, job)
        db.commit()
        return learners


def _store_all(db: Session, reports: list, org_of: dict[str, str]) -> None:  # type: ignore[type-arg]
    """Upsert the sessions' rows in one statement (safe even if two judges ever met on one
    learner), then raise or clear their flags in bulk: the write lock is held briefly."""
    if not reports:
        return
    now = utcnow()
    rows = [dict(id=new_id(), learner=r.learner, platform=r.platform, session=r.session,
                 organisation_id=org_of.get(r.platform, ""), course=r.course, verdict=r.verdict.value,
                 credited_s=r.credited_s, start=_instant(r.start), end=_instant(r.end), events=r.events,
                 findings=[f.model_dump(mode="json") for f in r.findings], updated_at=now) for r in reports]
    key = ["learner", "platform", "session"]
    insert_ignoring_conflicts(db, LearnerSession.__table__, rows, key,  # type: ignore[arg-type]
                              update=[c for c in rows[0] if c not in ("id", *key)])
    keys = {(r["learner"], r["platform"], r["session"]) for r in rows}
    ids: dict[tuple[str, str, str], str] = {}
    for learner_chunk in _chunks(sorted({k[0] for k in keys})):
        for row_id, learner, platform, session in db.exec(
                select(LearnerSession.id, LearnerSession.learner, LearnerSession.platform, LearnerSession.session)
                .where(LearnerSession.learner.in_(learner_chunk))).all():  # type: ignore[attr-defined]
            ids[(learner, platform, session)] = row_id
    subjects = [SubjectState("session", ids[(r["learner"], r["platform"], r["session"])],
                             ids[(r["learner"], r["platform"], r["session"])], r["organisation_id"], r["verdict"],
                             [f["rule"] for f in r["findings"]], r["start"]) for r in rows]
    raise_or_clear_all(db, subjects)


def _chunks(items: list[str], size: int = 500):  # type: ignore[no-untyped-def]
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _instant(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)
