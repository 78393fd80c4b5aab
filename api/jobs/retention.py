"""The retention job (issue #20): deletes the face images past their jurisdiction's retention
period (api/store/retention.py says which), the files first and then the marks, so a run cut
short is finished by the next one; images of undecided flags are held. Audited image by image,
and the run as a whole (how many deleted, how many held).

It runs daily by itself: every worker (the embedded deployment's in-process worker, each Celery
worker's sweep) calls `schedule_retention` now and then, which queues the day's job once it is
`retention_at_utc_hour` (the job's id names the day, so however many workers ask, one job a
day is queued). `monitor admin retention` runs it by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from api.core.service import Service
from api.jobs.runner import finish
from api.store import retention
from api.store.jobs import enqueue_once
from models.retry import write_unit
from models.tables import AuditEntry, Job, JobKind
from models.types import utcnow


def enforce_retention(service: Service, now: datetime | None = None, page: int = 1000) -> tuple[int, int]:
    """Delete every image past retention and not held. Returns (deleted, held)."""
    settings = service.settings
    now = now or utcnow()
    deleted = held_count = 0
    after: datetime | None = None
    while True:
        with service.session() as db:
            found = retention.due(db, settings.default_jurisdiction, now, page, after)
            held = retention.held(db, found)
        if not found:
            break
        after = max(d.created_at for d in found)
        gone = [d for d in found if d.image not in held]
        held_count += len(found) - len(gone)
        for d in gone:
            (settings.storage / d.image).unlink(missing_ok=True)
            cached = ("encodings", f"{d.sha256}.json") if d.kind == "photo" else ("faces", f"{d.sha256}.v1.json")
            (settings.cache_dir / cached[0] / cached[1]).unlink(missing_ok=True)

        def mark() -> None:
            with service.session() as db:
                retention.mark_deleted(db, gone, now)
                db.commit()

        write_unit(mark)
        deleted += len(gone)

    def summary() -> None:
        with service.session() as db:
            db.add(AuditEntry(person=retention.ACTOR, action="retention.run", target="",
                              detail={"deleted": deleted, "held": held_count, "at": now.isoformat()}))
            db.commit()

    write_unit(summary)
    return deleted, held_count


def run_retention(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    progress("deleting images past retention", 0.5)
    enforce_retention(service)

    def done() -> None:
        with service.session() as db:
            finish(db, job)
            db.commit()

    write_unit(done)


def schedule_retention(service: Service, now: datetime | None = None) -> str | None:
    """Queue today's retention job if it is time and nobody queued it yet; its id if queued now.
    Cheap (one insert that usually does nothing): workers call it at every sweep."""
    settings = service.settings
    now = now or utcnow()
    if not settings.retention_timer or now.hour < settings.retention_at_utc_hour:
        return None
    key = f"retention-{now:%Y%m%d}"

    def add() -> bool:
        with service.session() as db:
            added = enqueue_once(db, JobKind.RETENTION.value, key)
            db.commit()
            return added

    if not write_unit(add):
        return None
    service.notify_job(key)
    return key
