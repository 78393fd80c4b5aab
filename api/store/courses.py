"""A platform's course catalogue and its learners' assessments (B5, B7, B8): the platform's own,
by its own course ids; a change judges again only the platform's own learners it touches."""

from __future__ import annotations

from typing import Any, Iterable

from sqlmodel import Session

from api.store.events import insert_ignoring_conflicts, learners_of, mark_dirty, subjects_of_course
from models.tables import Assessment, Course, Job
from models.types import utcnow


def put_course(db: Session, organisation_id: str, course_ref: str, body: dict[str, Any]) -> Job | None:
    """Store (or replace) the platform's course; the job judging its learners again, if new."""
    insert_ignoring_conflicts(db, Course.__table__, [{"organisation_id": organisation_id, "course_ref": course_ref,  # type: ignore[arg-type]
                                                      "body": body, "updated_at": utcnow()}],
                              ["organisation_id", "course_ref"], update=["body", "updated_at"])
    # Only this platform's course changed: only its learners of the course are judged again.
    return mark_dirty(db, subjects_of_course(db, organisation_id, course_ref))


def put_assessments(db: Session, organisation_id: str, items: Iterable[dict[str, Any]]) -> Job | None:
    """Store the platform's learners' assessments (learner, course, assessed_at); the job judging
    those learners again, if new."""
    # One row per (learner, course), the last sent winning: one statement for the batch (an
    # upsert that met the same key twice in one statement fails on PostgreSQL).
    rows = list({(item["learner"], item["course"]): {"organisation_id": organisation_id, **item}
                 for item in items}.values())
    insert_ignoring_conflicts(db, Assessment.__table__, rows, ["organisation_id", "learner", "course"],  # type: ignore[arg-type]
                              update=["assessed_at"])
    learners = learners_of(db, organisation_id, (row["learner"] for row in rows))
    return mark_dirty(db, (learners[row["learner"]].subject for row in rows))
