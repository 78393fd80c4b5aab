"""Claiming and running jobs. The database is the source of truth: a claim is a compare-and-set
on the job row with a lease; progress renews the lease; a worker that dies simply stops renewing,
and after the lease any worker may claim the job again. Each job's results are written in the
same transaction that marks it done, replacing what an earlier, interrupted attempt may have
written, so nothing is counted twice."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta
from typing import Callable

from sqlalchemy import exists, func, or_, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from api.core.service import Service

from models.tables import Job, JobKind
from models.types import utcnow
from monitor.errors import MonitorError

log = logging.getLogger("monitor.jobs")
MAX_ATTEMPTS = 3


class LostLease(Exception):
    """Another worker took the job over (this one was too slow to renew): stop, write nothing."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# Kinds of which one job at a time may run: judging works on the shared set of dirty learners.
EXCLUSIVE_KINDS = (JobKind.JUDGE_LEARNERS.value,)


def _claimable(now):  # type: ignore[no-untyped-def]
    due = or_(Job.run_after.is_(None), Job.run_after <= now)  # type: ignore[union-attr,operator]
    return or_((Job.status == "queued") & due, (Job.status == "running") & (Job.lease_until < now))


def _no_other_running(now):  # type: ignore[no-untyped-def]
    other = aliased(Job)
    busy = exists().where(other.kind.in_(EXCLUSIVE_KINDS), other.status == "running",  # type: ignore[attr-defined]
                          other.lease_until >= now, other.id != Job.id)
    return or_(Job.kind.not_in(EXCLUSIVE_KINDS), ~busy)  # type: ignore[attr-defined]


def claim(service: Service, worker: str, job_id: str | None = None) -> Job | None:
    """Take one job (a given one, or the oldest claimable); None if there is none to take."""
    with service.session() as db:
        now = utcnow()
        if job_id is None:
            candidates = db.exec(select(Job.id).where(_claimable(now)).order_by(Job.created_at).limit(5)).all()
        else:
            candidates = [job_id]
        db.commit()  # each claim below is its own write transaction, not a read turned into one
        for candidate in candidates:
            taken = db.exec(update(Job).where(Job.id == candidate, _claimable(now), _no_other_running(now)).values(  # type: ignore[call-overload]
                status="running", worker=worker, attempts=Job.attempts + 1,
                lease_until=now + timedelta(seconds=service.settings.job_lease_s), started_at=now))
            db.commit()
            if taken.rowcount == 1:
                return db.get(Job, candidate)
    return None


def renew(service: Service, job: Job, stage: str, progress: float) -> None:
    with service.session() as db:
        result = db.exec(update(Job).where(Job.id == job.id, Job.worker == job.worker, Job.status == "running").values(  # type: ignore[call-overload]
            stage=stage[:100], progress=round(max(0.0, min(1.0, progress)), 4),
            lease_until=utcnow() + timedelta(seconds=service.settings.job_lease_s)))
        db.commit()
        if result.rowcount != 1:
            raise LostLease(job.id)


def finish(db: Session, job: Job) -> None:
    """Mark done inside the caller's transaction (the one that writes the results), only if this
    worker still holds the job."""
    result = db.exec(update(Job).where(Job.id == job.id, Job.worker == job.worker, Job.status == "running").values(  # type: ignore[call-overload]
        status="done", stage="done", progress=1.0, finished_at=utcnow(), error=None))
    if result.rowcount != 1:
        raise LostLease(job.id)


def _fail(service: Service, job: Job, message: str) -> None:
    with service.session() as db:
        db.exec(update(Job).where(Job.id == job.id, Job.worker == job.worker).values(  # type: ignore[call-overload]
            status="failed", error=message[:2000], finished_at=utcnow()))
        db.commit()


Handler = Callable[[Service, Job, Callable[[str, float], None]], None]


_HANDLERS: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """Wired by api.jobs.handlers.register_all where a worker is set up."""
    _HANDLERS[str(kind)] = handler


def handlers() -> dict[str, Handler]:
    return _HANDLERS


def run(service: Service, job: Job) -> None:
    """Run a claimed job to done or failed. Bad input fails the job with its clear message; an
    unexpected error fails it with a short note (the trace goes to the worker's log only)."""
    if job.attempts > MAX_ATTEMPTS:
        _fail(service, job, f"given up after {MAX_ATTEMPTS} attempts (each one's worker stopped before the end)")
        return
    handler = handlers().get(job.kind)
    if handler is None:
        _fail(service, job, f"unknown job kind {job.kind}")
        return
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        if time.monotonic() - last[0] >= 1.0 or fraction >= 1.0:
            last[0] = time.monotonic()
            renew(service, job, stage, fraction)

    try:
        handler(service, job, progress)
    except LostLease:
        log.warning("job %s was taken over by another worker; this attempt stops", job.id)
    except (OperationalError, InterfaceError, DisconnectionError) as exc:
        log.warning("job %s: the database went away (%s); the job is handed back", job.id, type(exc).__name__)
        hand_back(service, job)
    except MonitorError as exc:
        _fail(service, job, " ".join(str(exc).split()))
    except Exception as exc:
        log.exception("job %s failed", job.id)
        _fail(service, job, f"internal error ({type(exc).__name__}); see the worker's log")


def hand_back(service: Service, job: Job, count_attempt: bool = False) -> None:
    """Let any worker take the job again at once. An attempt cut short because the database went
    away is not counted (nothing is wrong with the job); one whose process died is (the job may be
    what kills it). If the database is still away, the lease runs out instead."""
    try:
        with service.session() as db:
            db.exec(update(Job).where(Job.id == job.id, Job.worker == job.worker, Job.status == "running")  # type: ignore[call-overload]
                    .values(lease_until=utcnow() - timedelta(seconds=1),
                            attempts=Job.attempts - (0 if count_attempt else 1)))
            db.commit()
    except (OperationalError, InterfaceError, DisconnectionError):
        log.warning("job %s: could not hand back; its lease will run out", job.id)


def run_one(service: Service, worker: str, job_id: str | None = None) -> bool:
    job = claim(service, worker, job_id)
    if job is None:
        return False
    run(service, job)
    return True


def stale_jobs(service: Service, queued_for_s: float = 0.0) -> list[str]:
    """Jobs a worker should (re)start: running ones whose lease ran out, and queued ones due for
    at least `queued_for_s` (their message may be lost: the broker restarted or was down)."""
    now = utcnow()
    waited = or_(Job.status == "running", func.coalesce(Job.run_after, Job.created_at) <= now - timedelta(seconds=queued_for_s))
    with service.session() as db:
        return list(db.exec(select(Job.id).where(_claimable(now), waited).order_by(Job.created_at)).all())


def retry_in(service: Service, job_id: str) -> float | None:
    """For a job that could not be claimed: None if it is finished (nothing to do), else when to
    look again: when it is due, when another worker's lease runs out (that worker may have
    died), or soon (waiting for the one job of its kind that may run at a time)."""
    with service.session() as db:
        job = db.get(Job, job_id)
    if job is None or job.status not in ("queued", "running"):
        return None
    now = utcnow()
    if job.status == "queued" and job.run_after is not None and job.run_after > now:
        return (job.run_after - now).total_seconds() + 0.05
    if job.status == "running" and job.lease_until is not None:
        return max(0.5, (job.lease_until - now).total_seconds() + 0.5)
    return 1.0
