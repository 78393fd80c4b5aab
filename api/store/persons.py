"""One person's trainings across institutions and platforms, for the person rules
(monitor/person.py: cool-down, yearly limit, two places at once).

A class trainee is linked to a person by the keyed hash of the ID number the roster gave (kept in
`class_trainee`; the number itself is dropped from the stored manifest); a learner by
`Learner.person_hash`. A class's trainees are judged when the class is analysed and again when
one of them is judged online (an online session during a class hour, an earlier course assessed
late), the result kept in `trainee_result` for the inspectors' queue; the class period judges them
again when it is read. An online session's, when its subject is judged, with the person's classes
handed to the engine as history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from api.store.organisations import person_hash
from models.tables import (Assessment, ClassAssessment, ClassTrainee, Course, Learner, LearnerSession, TraineeResult,
                           TrainingClass)
from models.types import utcnow
from monitor.person import Training, TraineeVerdict, judge_trainee
from monitor.policy import Policy

_CHUNK = 500


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def link_trainees(db: Session, class_id: str, roster: list[dict[str, Any]], secret: bytes) -> list[str]:
    """Keep the hash of each trainee's ID number (the caller commits); the subjects ("p:<hash>")
    whose online sessions must be judged again now that this class is one of their trainings."""
    subjects = []
    for trainee in roster:
        if trainee.get("person_id"):
            hashed = person_hash(secret, trainee["person_id"])
            db.add(ClassTrainee(class_id=class_id, trainee_id=trainee["id"], person_hash=hashed))
            subjects.append(f"p:{hashed}")
    return subjects


def persons_of(db: Session, class_id: str) -> dict[str, str]:
    """Trainee id -> person hash, for the trainees of a class whose ID number was given."""
    return {r.trainee_id: r.person_hash for r in db.exec(select(ClassTrainee).where(ClassTrainee.class_id == class_id)).all()}


def subjects_of_class(db: Session, class_id: str) -> list[str]:
    return [f"p:{h}" for h in sorted(set(persons_of(db, class_id).values()))]


def _hours(klass: TrainingClass) -> tuple[tuple[datetime, datetime], ...]:
    return tuple(sorted((datetime.fromisoformat(h["start"]), datetime.fromisoformat(h["end"]))
                        for h in klass.manifest.get("schedule", [])))


def class_training(klass: TrainingClass, assessed_at: datetime | None) -> Training:
    """A class as one of its trainees' trainings: it starts with its first class hour."""
    hours = _hours(klass)
    # the institution's own name for the class, and enough of its id to tell two institutions' apart
    return Training(ref=f"class:{klass.class_ref}#{klass.id[:8]}", started_at=hours[0][0] if hours else None, assessed_at=assessed_at,
                    occupation=klass.manifest.get("occupation"), level=klass.manifest.get("level"), spans=hours)


def _classes_of(db: Session, hashes: list[str]) -> dict[str, list[tuple[TrainingClass, datetime | None]]]:
    out: dict[str, list[tuple[TrainingClass, datetime | None]]] = {}
    for chunk in _chunks(hashes):
        rows = db.exec(select(ClassTrainee.person_hash, TrainingClass, ClassAssessment.assessed_at)
                       .join(TrainingClass, TrainingClass.id == ClassTrainee.class_id)  # type: ignore[arg-type]
                       .join(ClassAssessment, ClassAssessment.class_id == TrainingClass.id, isouter=True)  # type: ignore[arg-type]
                       .where(ClassTrainee.person_hash.in_(chunk))).all()  # type: ignore[attr-defined]
        for hashed, klass, assessed in rows:
            out.setdefault(hashed, []).append((klass, assessed))
    return out


def class_history(db: Session, hashes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each person's classes as the online engine's history ("p:<hash>" -> EarlierCourse dicts),
    their class hours as the spans two places at once is judged on."""
    out: dict[str, list[dict[str, Any]]] = {}
    for hashed, classes in _classes_of(db, sorted(set(hashes))).items():
        for klass, assessed in classes:
            t = class_training(klass, assessed)
            out.setdefault(f"p:{hashed}", []).append(
                {"course": t.ref, "started_at": t.started_at, "assessed_at": t.assessed_at, "occupation": t.occupation,
                 "level": t.level, "spans": list(t.spans)})
    return out


def _online_trainings(db: Session, hashes: list[str]) -> dict[str, list[Training]]:
    """Each person's online courses: started with their first session, assessed as the platform
    reported, the sessions as spans, occupation and level from the platform's catalogue."""
    learners = [r for chunk in _chunks(hashes)
                for r in db.exec(select(Learner).where(Learner.person_hash.in_(chunk))).all()]  # type: ignore[union-attr]
    by_id = {r.id: r for r in learners}
    sessions: dict[tuple[str, str, str], list[tuple[datetime, datetime]]] = {}
    for chunk in _chunks(sorted(by_id)):
        for row in db.exec(select(LearnerSession).where(LearnerSession.learner_id.in_(chunk))).all():  # type: ignore[union-attr]
            learner = by_id[row.learner_id]  # type: ignore[index]
            sessions.setdefault((learner.person_hash or "", learner.organisation_id, row.course), []).append((row.start, row.end))
    assessed: dict[tuple[str, str, str], datetime | None] = {}
    courses: dict[tuple[str, str], dict[str, Any]] = {}
    for learner in learners:
        for a in db.exec(select(Assessment).where(Assessment.organisation_id == learner.organisation_id,
                                                  Assessment.learner == learner.learner_ref)).all():
            assessed[(learner.person_hash or "", learner.organisation_id, a.course)] = a.assessed_at
    for org in sorted({r.organisation_id for r in learners}):
        for c in db.exec(select(Course).where(Course.organisation_id == org)).all():
            courses[(org, c.course_ref)] = c.body
    out: dict[str, list[Training]] = {}
    for key in sorted(set(sessions) | set(assessed)):
        hashed, org, course = key
        spans = tuple(sorted(sessions.get(key, [])))
        body = courses.get((org, course), {})
        out.setdefault(hashed, []).append(Training(
            ref=f"online:{org}:{course}", started_at=spans[0][0] if spans else None, assessed_at=assessed.get(key),
            occupation=body.get("occupation"), level=body.get("level"), spans=spans))
    return out


def trainees_judged(db: Session, klass: TrainingClass, policy: Policy,
                    only: Iterable[str] | None = None) -> dict[str, TraineeVerdict]:
    """The person rules on each linked trainee of the class (or the `only` ones), against the
    person's other classes and online courses (trainees without an ID number are not in it:
    `unlinked` says who)."""
    persons = persons_of(db, klass.id)
    if only is not None:
        wanted = set(only)
        persons = {t: h for t, h in persons.items() if t in wanted}
    hashes = sorted(set(persons.values()))
    classes = _classes_of(db, hashes)
    online = _online_trainings(db, hashes)
    own = db.get(ClassAssessment, klass.id)
    this = class_training(klass, own.assessed_at if own else None)
    out = {}
    for trainee, hashed in sorted(persons.items()):
        others = [class_training(k, a) for k, a in classes.get(hashed, []) if k.id != klass.id] + online.get(hashed, [])
        out[trainee] = judge_trainee(trainee, this, others, policy)
    return out


def assessment_of(db: Session, class_id: str) -> ClassAssessment | None:
    return db.get(ClassAssessment, class_id)


def _verdict(verdict: TraineeVerdict) -> str:
    if not verdict.subsidisable:
        return "invalid"
    return "review" if verdict.findings else "valid"


def store_trainee_results(db: Session, klass: TrainingClass, policy: Policy,
                          only: Iterable[str] | None = None) -> list[TraineeResult]:
    """Judge the class's linked trainees (or the `only` ones) and keep each one's person findings
    in place of the last (the caller raises or clears their flags and commits): a trainee's
    findings depend on the person's other trainings, which change after the class is analysed."""
    judged = trainees_judged(db, klass, policy, only)
    stored = {r.trainee_id: r for r in db.exec(select(TraineeResult).where(TraineeResult.class_id == klass.id)).all()}
    start = class_training(klass, None).started_at or utcnow()
    out = []
    for trainee, verdict in sorted(judged.items()):
        row = stored.get(trainee) or TraineeResult(class_id=klass.id, trainee_id=trainee, organisation_id=klass.organisation_id,
                                                   verdict="valid", start=start, findings=[], policy=policy.name)
        row.verdict, row.start, row.policy, row.judged_at = _verdict(verdict), start, policy.name, utcnow()
        row.findings = [f.model_dump(mode="json") for f in verdict.findings]
        db.add(row)
        out.append(row)
    db.flush()
    return out


def classes_of_persons(db: Session, hashes: Iterable[str]) -> list[tuple[TrainingClass, list[str]]]:
    """The classes these persons are trainees of, each with those persons' trainee ids: whose
    person findings to judge again after the persons' online sessions were judged."""
    wanted = sorted(set(hashes))
    found: dict[str, set[str]] = {}
    for chunk in _chunks(wanted):
        for row in db.exec(select(ClassTrainee).where(ClassTrainee.person_hash.in_(chunk))).all():  # type: ignore[attr-defined]
            found.setdefault(row.class_id, set()).add(row.trainee_id)
    out = []
    for class_id in sorted(found):
        klass = db.get(TrainingClass, class_id)
        if klass is not None:
            out.append((klass, sorted(found[class_id])))
    return out


def trainee_result(db: Session, result_id: str) -> TraineeResult | None:
    return db.get(TraineeResult, result_id)
