"""Storing a platform's events: idempotent by (platform, event id), in bulk, and marking the
learners whose sessions must be judged again. The rules run in a job, not in the request, so a
platform's batch is acknowledged as soon as it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import msgspec
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from api.jobs.runner import enqueue
from models.tables import DirtyLearner, Event, Job
from models.types import utcnow
from monitor.online.events import LearningEvent

_CHUNK = 500  # ids per IN (...) and rows per INSERT: well inside SQLite's variable limit
_ENCODE = msgspec.json.Encoder()


def insert_ignoring_conflicts(db: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str],
                              update: dict[str, Any] | None = None) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (or DO UPDATE SET `update`) on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), _CHUNK):
        statement = dialect.insert(table).values(list(rows[start:start + _CHUNK]))
        if update:
            statement = statement.on_conflict_do_update(index_elements=keys, set_=update)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        db.exec(statement)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Stored:
    new: int
    duplicates: int
    ids: list[str]


def known_ids(db: Session, organisation_id: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found.update(db.exec(select(Event.event_id).where(Event.organisation_id == organisation_id,
                                                          Event.event_id.in_(chunk))).all())  # type: ignore[attr-defined]
    return found


def mark_dirty(db: Session, learners: Iterable[str]) -> Job | None:
    """Mark learners for judging and make sure a judging job is queued; the job if one was added
    (to be announced to the workers once committed)."""
    now = utcnow()
    rows = [{"learner": learner, "since": now} for learner in sorted(set(learners))]
    if not rows:
        return None
    insert_ignoring_conflicts(db, DirtyLearner.__table__, rows, ["learner"], update={"since": now})  # type: ignore[arg-type]
    waiting = db.exec(select(Job.id).where(Job.kind == "judge_learners", Job.status == "queued").limit(1)).first()
    return enqueue(db, "judge_learners", None) if waiting is None else None


def store_events(db: Session, organisation_id: str, events: list[LearningEvent]) -> tuple[Stored, Job | None]:
    """Store the events not stored before; the caller commits. Returns what was stored and
    the judging job queued, if one was."""
    already = known_ids(db, organisation_id, [e.id for e in events])
    fresh = [e for e in events if e.id not in already]
    now = utcnow()
    rows = [{"organisation_id": organisation_id, "event_id": e.id, "learner": e.learner, "session": e.session,
             "course": e.course, "unit": e.unit, "type": e.type, "at": e.at, "body": _ENCODE.encode(e).decode(),
             "received_at": now} for e in fresh]
    insert_ignoring_conflicts(db, Event.__table__, rows, ["organisation_id", "event_id"])  # type: ignore[arg-type]
    queued = mark_dirty(db, (e.learner for e in fresh))
    return Stored(len(fresh), len(events) - len(fresh), [e.id for e in fresh]), queued
