"""Class trainees' person findings into the inspectors' queue: a trainee barred by the cool-down
or the yearly limit, or in a classroom and online at once, is a flag of kind `trainee` (one per
class and trainee), raised when the class is analysed and refreshed whenever the person is judged
online, since the person's other trainings change after the class's own analysis."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from api.jobs.flags import SubjectState, raise_or_clear_all
from api.store.classes import class_policy
from api.store.organisations import PolicyBook
from api.store.persons import classes_of_persons, store_trainee_results
from models.tables import SubjectKind, TrainingClass
from monitor.policy import Policy


def judge_trainees(db: Session, klass: TrainingClass, policy: Policy, only: Iterable[str] | None = None) -> None:
    """Judge and store the class's linked trainees (or the `only` ones) and raise or clear their
    flags; the caller commits."""
    rows = store_trainee_results(db, klass, policy, only)
    raise_or_clear_all(db, [SubjectState(SubjectKind.TRAINEE, f"{klass.id}#{r.trainee_id}", r.id, r.organisation_id,
                                         r.verdict, [f["rule"] for f in r.findings], r.start) for r in rows])


def judge_persons_trainees(db: Session, person_hashes: Iterable[str], default_jurisdiction: str) -> None:
    """After these persons were judged online: their trainees in every class judged again (only
    persons who are somebody's trainee cost more than one read)."""
    book: PolicyBook | None = None
    for klass, trainees in classes_of_persons(db, person_hashes):
        book = book or PolicyBook(db)
        judge_trainees(db, klass, class_policy(db, klass, default_jurisdiction, book), trainees)
