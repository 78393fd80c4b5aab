"""A platform's course catalogue and its learners' assessments (B5, B7, B8): the platform's own,
by its own course ids; a change judges again only the platform's own learners it touches.

A course's mode follows its owner, never the body (#17, B7): a platform's own course is `online`
(003 §20(4), 004 annex 3: no 40 % cap on its online hours); a `blended` course is an
institution's, its theory part put on a listed platform (003 §21: at most 40 % online). Only
platforms put courses here, so every course stored is online; a platform saying `blended` (or an
institution's course, once institutions register theirs) is for that route to set."""

from __future__ import annotations

from typing import Any, Iterable

from sqlmodel import Session

from api.store.events import insert_ignoring_conflicts, learners_of, mark_dirty, subjects_of_course
from models.tables import Assessment, Course, Job
from models.types import utcnow


MODE_OF_OWNER = {"platform": "online", "institution": "blended"}


def as_judged(body: dict[str, Any], owner_kind: str = "platform") -> dict[str, Any]:
    """A stored course as the rules read it: its mode its owner's (rows stored before the mode
    was the owner's carry none, or the body's)."""
    return {**body, "mode": MODE_OF_OWNER[owner_kind]}


def mode_problem(body: dict[str, Any], owner_kind: str) -> str | None:
    """Why a course body cannot be taken from this owner: it names a mode that is not its owner's."""
    mode = body.get("mode")
    if mode is not None and mode != MODE_OF_OWNER[owner_kind]:
        return (f"mode: a {owner_kind}'s course is {MODE_OF_OWNER[owner_kind]!r} (003 §20(4), 004 annex 3); "
                "a blended course, its theory online under the 40 % cap (003 §21), is an institution's")
    return None


def put_course(db: Session, organisation_id: str, course_ref: str, body: dict[str, Any]) -> Job | None:
    """Store (or replace) the platform's course, its mode the platform's (`online`); the job
    judging its learners again, if new."""
    body = as_judged(body)
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
