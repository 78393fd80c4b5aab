"""The judging job: learners whose events changed are judged again over all their events, from
every platform (only a supervision point that sees every platform can see one learner on two at
once, B2), by the same OnlineEngine the CLI runs. Their session rows and flags are replaced in one
transaction with the job's end."""

from __future__ import annotations

from typing import Callable

import msgspec
from sqlalchemy import delete
from sqlmodel import Session, select

from api.jobs.flags import raise_or_clear
from api.ingest import insert_ignoring_conflicts
from api.jobs.runner import finish
from api.service import Service
from models.tables import Assessment, Course, DirtyLearner, Event, Job, LearnerSession, Organisation, new_id
from models.types import utcnow
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.events import LearningEvent
from monitor.policy import load_policy

BATCH_LEARNERS = 500
_DECODE = msgspec.json.Decoder(LearningEvent)


def catalogue_for(db: Session, learners: list[str]) -> Catalogue:
    courses = {c.course_ref: c.body for c in db.exec(select(Course)).all()}
    history: dict[str, list[dict]] = {}
    for a in db.exec(select(Assessment).where(Assessment.learner.in_(learners))).all():  # type: ignore[attr-defined]
        history.setdefault(a.learner, []).append({"course": a.course, "assessed_at": a.assessed_at})
    return Catalogue.model_validate({"courses": courses, "history": history})


def judge_learners(db: Session, policy_name: str, learners: list[str]) -> OnlineEngine:
    engine = OnlineEngine(load_policy(policy_name), catalogue_for(db, learners))
    bodies = db.exec(select(Event.body).where(Event.learner.in_(learners))).all()  # type: ignore[attr-defined]
    events = [_DECODE.decode(body) for body in bodies]
    for course in {e.course for e in events}:
        units = db.exec(select(Event.unit).where(Event.course == course, Event.unit.is_not(None)).distinct()).all()  # type: ignore[union-attr]
        engine.know_units(course, [u for u in units if u])
    engine.add(events)
    return engine


def run_judging(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    while True:
        with service.session() as db:
            dirty = db.exec(select(DirtyLearner).order_by(DirtyLearner.since).limit(BATCH_LEARNERS)).all()
            if not dirty:
                finish(db, job)
                db.commit()
                return
            progress(f"judging {len(dirty)} learners", 0.5)
            engine = judge_learners(db, service.settings.online_policy, [d.learner for d in dirty])
            org_of = {o.name: o.id for o in db.exec(select(Organisation).where(Organisation.kind == "platform")).all()}
            for report in engine.sessions():
                _store(db, report, org_of)
            for d in dirty:  # only if no event came in meanwhile (it would have moved `since`)
                db.exec(delete(DirtyLearner).where(DirtyLearner.learner == d.learner, DirtyLearner.since == d.since))  # type: ignore[call-overload]
            db.commit()


def _store(db: Session, report, org_of: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Upsert the session's row (safe even if two judges ever met on one learner), then its flag."""
    fields = dict(organisation_id=org_of.get(report.platform, ""), course=report.course, verdict=report.verdict.value,
                  credited_s=report.credited_s, start=_instant(report.start), end=_instant(report.end),
                  events=report.events, findings=[f.model_dump(mode="json") for f in report.findings],
                  updated_at=utcnow())
    key = dict(learner=report.learner, platform=report.platform, session=report.session)
    insert_ignoring_conflicts(db, LearnerSession.__table__, [{"id": new_id(), **key, **fields}],  # type: ignore[arg-type]
                              list(key), update=fields)
    row = db.exec(select(LearnerSession).where(LearnerSession.learner == report.learner,
                                               LearnerSession.platform == report.platform,
                                               LearnerSession.session == report.session)).one()
    raise_or_clear(db, "session", row.id, row.id, row.organisation_id, row.verdict,
                   [f.rule for f in report.findings], row.start)


def _instant(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)
