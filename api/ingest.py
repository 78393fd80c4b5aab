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
                              update: Sequence[str] = ()) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (or DO UPDATE the `update` columns from the new row), on
    SQLite and PostgreSQL, as one executemany of a statement compiled once (a VALUES list of a
    thousand rows costs more to compile than to run)."""
    if not rows:
        return
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    if update:
        statement = statement.on_conflict_do_update(index_elements=keys,
                                                    set_={name: statement.excluded[name] for name in update})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    db.connection().execute(statement, list(rows))


@dataclass(frozen=True)
class Stored:
    new: int
    duplicates: int
    ids: list[str]


def mark_dirty(db: Session, learners: Iterable[str], delay_s: float = 0.0) -> Job | None:
    """Mark learners for judging and make sure a judging job is queued; the job if one was added
    (to be announced to the workers once committed)."""
    rows = [{"learner": learner, "since": utcnow(), "job_id": None} for learner in sorted(set(learners))]
    if not rows:
        return None
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = DirtyLearner.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(index_elements=["learner"],
                                                set_={"job_id": None, "since": statement.excluded.since},
                                                where=table.c.job_id.is_not(None))
    db.connection().execute(statement, rows)
    waiting = db.exec(select(Job.id).where(Job.kind == "judge_learners", Job.status == "queued").limit(1)).first()
    return enqueue(db, "judge_learners", None, delay_s=delay_s) if waiting is None else None


def store_events(db: Session, organisation_id: str, events: list[LearningEvent],
                 judge_delay_s: float = 0.0) -> tuple[Stored, Job | None]:
    """Store the events not stored before; the caller commits. Returns what was stored and
    the judging job queued, if one was.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING: the rows it returns are the new ones, so two
    clients sending the same batch at once cannot both count it; and the transaction's first
    statement is a write (on SQLite it takes the write lock at once instead of reading first and
    finding its snapshot stale when it wants to write)."""
    now = utcnow()
    rows = [{"organisation_id": organisation_id, "event_id": e.id, "learner": e.learner, "session": e.session,
             "course": e.course, "unit": e.unit, "type": e.type, "at": e.at, "body": _ENCODE.encode(e).decode(),
             "received_at": now} for e in events]
    new_ids: set[str] = set()
    if rows:
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        table = Event.__table__  # type: ignore[attr-defined]
        statement = (dialect.insert(table).on_conflict_do_nothing(index_elements=["organisation_id", "event_id"])
                     .returning(table.c.event_id))
        new_ids = set(db.connection().execute(statement, rows).scalars().all())
    fresh = [e for e in events if e.id in new_ids]
    queued = mark_dirty(db, (e.learner for e in fresh), judge_delay_s)
    return Stored(len(fresh), len(events) - len(fresh), [e.id for e in fresh]), queued
