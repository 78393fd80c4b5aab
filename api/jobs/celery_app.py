"""Celery workers for scale-out (MONITOR_QUEUE=celery, Redis broker):

    celery -A api.jobs.celery_app worker --loglevel=info --concurrency=2

The broker only carries job ids; state, progress and results live in the database. Tasks are
acknowledged late and rejected when their worker is lost, so a killed worker's job is delivered
again; a worker that starts also takes up jobs whose lease ran out (their message may be gone)."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_ready

from api.jobs.runner import run_one, stale_jobs, still_held, worker_name
from api.service import Service
from api.settings import ServiceSettings

settings = ServiceSettings()
app = Celery("training_monitor", broker=settings.redis_url)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="monitor",
    broker_connection_retry_on_startup=True,
    # Redis redelivers an unacknowledged message after this long; leases decide who may run it.
    broker_transport_options={"visibility_timeout": int(settings.job_lease_s * 2)},
)

_service: Service | None = None


def service() -> Service:
    global _service
    if _service is None:
        _service = Service.from_settings(settings)
        _service.notify_job = send_job
    return _service


@app.task(name="monitor.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: str) -> bool:  # type: ignore[no-untyped-def]
    if run_one(service(), worker_name(), job_id):
        return True
    if still_held(service(), job_id):  # another worker holds a live lease: look again when it may have run out
        raise self.retry(countdown=max(1.0, settings.job_lease_s / 2))
    return False


def send_job(job_id: str) -> None:
    run_job.delay(job_id)


@worker_ready.connect
def _take_up_stale_jobs(**_: object) -> None:
    for job_id in stale_jobs(service()):
        send_job(job_id)
