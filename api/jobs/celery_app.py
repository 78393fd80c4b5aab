"""Celery workers for scale-out (MONITOR_QUEUE=celery, Redis broker at MONITOR_REDIS_URL):

    celery -A api.jobs.celery_app worker --loglevel=info --concurrency=2 -Q monitor

The broker only carries job ids; state, progress and results live in the database. Tasks are
acknowledged late and rejected when their worker is lost, so a killed worker's job is delivered
again; a worker that starts also takes up jobs whose lease ran out (their message may be gone),
and a job still under another worker's live lease is looked at again when that lease may have
run out."""

from __future__ import annotations

from typing import Callable

from celery import Celery
from celery.signals import worker_ready

from api.jobs.runner import run_one, stale_jobs, retry_in, worker_name
from api.service import Service
from api.settings import ServiceSettings

TASK, QUEUE = "monitor.run_job", "monitor"


def make_celery(settings: ServiceSettings) -> Celery:
    celery = Celery("training_monitor", broker=settings.redis_url)
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged message after this long; the lease decides who runs it.
        broker_transport_options={"visibility_timeout": max(10, int(settings.job_lease_s * 2))},
    )
    return celery


def sender(settings: ServiceSettings) -> Callable[[str], None]:
    """What the API calls after committing a job: one message with the job's id."""
    celery = make_celery(settings)

    def send(job_id: str) -> None:
        celery.send_task(TASK, args=[job_id], queue=QUEUE)

    return send


# The worker side: `celery -A api.jobs.celery_app worker` finds `app` here.
settings = ServiceSettings()
app = make_celery(settings)
_service: Service | None = None


def service() -> Service:
    global _service
    if _service is None:
        _service = Service.from_settings(settings)
        _service.notify_job = sender(settings)
    return _service


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: str) -> bool:  # type: ignore[no-untyped-def]
    if run_one(service(), worker_name(), job_id):
        return True
    wait_s = retry_in(service(), job_id)
    if wait_s is not None:
        raise self.retry(countdown=wait_s)
    return False


@worker_ready.connect
def _take_up_stale_jobs(**_: object) -> None:
    for job_id in stale_jobs(service()):
        service().notify_job(job_id)
