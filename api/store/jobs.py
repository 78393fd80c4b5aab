"""Job rows as the store writes them: a write that needs work done adds the job in its own
transaction (the caller commits, then announces it to the workers)."""

from __future__ import annotations

from datetime import timedelta

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
