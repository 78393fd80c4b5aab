"""Job rows as the store writes them: a write that needs work done adds the job in its own
transaction (the caller commits, then announces it to the workers)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.tables import Job
from models.types import utcnow


def enqueue(db: Session, kind: str, organisation_id: str | None, subject_id: str | None = None,
            delay_s: float = 0.0) -> Job:
    """Add a job row (the caller commits, then calls service.notify_job)."""
    job = Job(kind=kind, organisation_id=organisation_id, subject_id=subject_id,
              run_after=utcnow() + timedelta(seconds=delay_s) if delay_s else None)
    db.add(job)
    return job


def enqueue_once(db: Session, kind: str, key: str, run_after: datetime | None = None) -> bool:
    """Add a job under a key of its own (its id) unless one was ever added under it; whether it
    was added. A timer that every worker runs (each Celery worker, each server's in-process
    worker) queues one job a period, not one a worker: the key names the period, and the
    database's primary key decides between workers that ask at the same moment."""
    if db.get(Job, key) is not None:  # the usual answer, read without taking SQLite's write lock
        return False
    row = Job(id=key, kind=kind, organisation_id=None, run_after=run_after).model_dump()
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = Job.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(row).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    return db.connection().execute(statement).first() is not None
