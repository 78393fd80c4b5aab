"""The retention job runs daily by itself (issue #20): from its hour on, the day's job is queued
once however many workers ask (the embedded deployment's in-process worker, each Celery worker's
sweep); it runs, and its run is audited. The timer is off in the other tests (tests/conftest.py)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlmodel import select

import api.jobs.celery_app as celery_app
from api.core.service import Service
from api.jobs.retention import schedule_retention
from api.store.retention import ACTOR
from models.tables import AuditEntry, Job, JobKind
from models.types import utcnow
from tests.api.conftest import World, make_world


def _timed(w: World, hour: int = 2) -> Service:
    """The world's database, as a service whose timer is on (the world's own worker's is off)."""
    settings = w.service.settings.model_copy(update={"retention_timer": True, "retention_at_utc_hour": hour})
    return Service.from_settings(settings)


def _retention_jobs(w: World) -> list[Job]:
    with w.service.session() as db:
        return list(db.exec(select(Job).where(Job.kind == JobKind.RETENTION.value)).all())


def _runs(w: World) -> list[AuditEntry]:
    with w.service.session() as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == "retention.run")).all())


def test_the_days_job_is_queued_once_from_its_hour_then_runs_audited(world: World) -> None:
    w = world
    timed = _timed(w, hour=2)
    sent: list[str] = []
    timed.notify_job = sent.append
    day = datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert schedule_retention(timed, now=day.replace(hour=1, minute=59)) is None  # not yet its hour
    assert _retention_jobs(w) == []
    key = schedule_retention(timed, now=day.replace(hour=2))
    assert key == "retention-20261203" and sent == [key]
    # every other worker asking the same day, later that day: nothing more
    assert schedule_retention(timed, now=day.replace(hour=2)) is None
    assert schedule_retention(_timed(w), now=day.replace(hour=23, minute=59)) is None
    assert [j.id for j in _retention_jobs(w)] == [key]
    w.service.notify_job(key)  # the world's worker runs it
    w.wait_jobs()
    (job,) = _retention_jobs(w)
    assert job.status == "done", job.error
    (run,) = _runs(w)
    assert run.person == ACTOR and run.detail["deleted"] == 0 and run.detail["held"] == 0
    # the next day: the next day's job
    assert schedule_retention(timed, now=day.replace(day=4, hour=3)) == "retention-20261204"
    w.service.notify_job("retention-20261204")
    w.wait_jobs()
    assert len(_runs(w)) == 2
    timed.engine.dispose()


def test_off_no_job_is_queued(world: World) -> None:
    off = Service.from_settings(world.service.settings.model_copy(update={"retention_timer": False,
                                                                          "retention_at_utc_hour": 0}))
    assert schedule_retention(off) is None
    assert _retention_jobs(world) == []
    off.engine.dispose()


@pytest.fixture
def timed_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    """The embedded deployment as it ships (in-process worker, its child process), its timer on
    from hour 0: due whenever the test runs."""
    yield from make_world(sqlite_url, tmp_path / "data", retention_timer=True, retention_at_utc_hour=0)


def test_the_embedded_worker_queues_and_runs_it_by_itself(timed_world: World) -> None:
    w = timed_world
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _runs(w):
        time.sleep(0.2)
    w.wait_jobs()
    (job,) = _retention_jobs(w)
    assert job.id == f"retention-{job.created_at:%Y%m%d}" and job.status == "done", (job.id, job.error)
    assert len(_runs(w)) == 1


def test_each_celery_workers_sweep_queues_it_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers' sweeps (the module's service swapped for one on the test's database; no
    broker: the message goes to a list): one job, its message sent when it was queued."""
    w = world
    sent: list[str] = []
    for _ in range(2):
        timed = _timed(w, hour=0)
        timed.notify_job = sent.append
        monkeypatch.setattr(celery_app, "_service", timed)
        celery_app.sweep_once(queued_for_s=30.0)
        timed.engine.dispose()
    key = f"retention-{utcnow():%Y%m%d}"
    assert [j.id for j in _retention_jobs(w)] == [key]
    assert sent == [key]
