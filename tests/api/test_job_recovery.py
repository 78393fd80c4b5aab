"""What the workers do when the broker or the database lets them down: the sweep finds the jobs
whose message may be lost, and a job handed back when the database went away is not counted as
a failed attempt (a worker whose process died is)."""

from __future__ import annotations

from datetime import timedelta

from api.jobs.runner import claim, hand_back, stale_jobs
from models.tables import Job
from models.types import utcnow
from tests.api.conftest import World


def _job(w: World, **fields: object) -> str:
    with w.service.session() as db:
        job = Job(kind="analyze_class", **fields)
        db.add(job)
        db.commit()
        return job.id


def test_the_sweep_finds_jobs_left_queued_or_with_a_lease_run_out(sqlite_world: World) -> None:
    w, now = sqlite_world, utcnow()
    waited = _job(w, created_at=now - timedelta(seconds=90))
    fresh = _job(w, created_at=now - timedelta(seconds=5))  # its message is most likely on its way
    not_due = _job(w, created_at=now - timedelta(seconds=90), run_after=now + timedelta(seconds=30))
    due_long_ago = _job(w, created_at=now - timedelta(seconds=120), run_after=now - timedelta(seconds=60))
    lost = _job(w, status="running", lease_until=now - timedelta(seconds=1), created_at=now - timedelta(seconds=2))
    held = _job(w, status="running", lease_until=now + timedelta(seconds=60))
    done = _job(w, status="done", created_at=now - timedelta(seconds=300))
    found = stale_jobs(w.service, queued_for_s=30)
    assert set(found) == {waited, due_long_ago, lost}, found
    assert not {fresh, not_due, held, done} & set(found)
    assert set(stale_jobs(w.service, queued_for_s=0)) == {waited, fresh, due_long_ago, lost}  # a worker starting


def test_a_job_handed_back_is_taken_again_at_once_and_counted_only_when_its_process_died(sqlite_world: World) -> None:
    w = sqlite_world
    job_id = _job(w)
    first = claim(w.service, "host:1", job_id)
    assert first is not None and first.attempts == 1
    assert claim(w.service, "host:2", job_id) is None  # under host:1's lease
    hand_back(w.service, first)  # the database went away under host:1
    second = claim(w.service, "host:2", job_id)
    assert second is not None and second.attempts == 1  # not counted against the job
    hand_back(w.service, second, count_attempt=True)  # host:2's process died with it
    third = claim(w.service, "host:3", job_id)
    assert third is not None and third.attempts == 2
    hand_back(w.service, first)  # host:1, back, can no longer touch it
    with w.service.session() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.worker == "host:3" and job.lease_until > utcnow()
