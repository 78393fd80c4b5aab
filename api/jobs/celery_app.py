"""Celery workers for scale-out (MONITOR_QUEUE=celery, Redis broker at MONITOR_REDIS_URL):

    celery -A api.jobs.celery_app worker --loglevel=info --concurrency=2 -Q monitor

The broker only carries job ids; state, progress and results live in the database. Tasks are
acknowledged late and rejected when their worker is lost, so a killed worker's job is delivered
again; a job still under another worker's live lease is looked at again when that lease may have
run out. The broker may lose messages (Redis restarted keeps nothing; it may be down when the API
queues a job, which the API then only logs): every worker looks, when it starts and every
`job_sweep_s`, for jobs left queued or whose lease ran out, and sends their ids again. A message
too many costs one look at the job row; a claim decides who runs it.

The sweep is also the timer of the daily jobs (no `celery beat` to run): at each sweep every
worker asks for the day's retention job, which is queued once however many ask
(api/jobs/retention.py)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from celery import Celery
from celery.signals import worker_ready

from api.jobs.handlers import register_all
from api.jobs.retention import schedule_retention
from api.jobs.runner import retry_in, run_one, stale_jobs, worker_name
from api.core.service import Service
from api.core.settings import ServiceSettings

TASK, QUEUE = "monitor.run_job", "monitor"
log = logging.getLogger("monitor.jobs")
# Publishing to a broker that is down: a few quick tries, then the sweep's turn (not a hung request).
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0}


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
        # A pool child is replaced, after its task, once it holds this much (KiB): in the 10-minute
        # soak on this deployment the children grew 90-110 MB while judging (not yet explained).
        worker_max_memory_per_child=settings.worker_max_memory_mb * 1024,
    )
    return celery


def sender(settings: ServiceSettings) -> Callable[[str], None]:
    """What the API calls after committing a job: one message with the job's id."""
    celery = make_celery(settings)

    def send(job_id: str) -> None:
        try:
            celery.send_task(TASK, args=[job_id], queue=QUEUE, retry=True, retry_policy=PUBLISH_RETRY)
        except Exception as exc:  # the job row is committed; a worker's sweep will send it again
            log.warning("job %s queued, but the broker did not take its message (%s)", job_id, exc)

    return send


# The worker side: `celery -A api.jobs.celery_app worker` finds `app` here.
settings = ServiceSettings()
app = make_celery(settings)
_service: Service | None = None


def service() -> Service:
    global _service
    if _service is None:
        register_all()
        _service = Service.from_settings(settings)
        _service.notify_job = sender(settings)
    return _service


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id: str) -> bool:  # type: ignore[no-untyped-def]
    """Run the job if it can be claimed; while it is unfinished (another worker's lease, its turn
    not come, or handed back when the database went away) look again later."""
    ran = run_one(service(), worker_name(), job_id)
    wait_s = retry_in(service(), job_id)
    if wait_s is not None:
        raise self.retry(countdown=wait_s)
    return ran


def sweep_once(queued_for_s: float) -> int:
    """Queue the day's retention job if due (its message sent at once), then send again the ids
    of jobs that may have lost their message; how many were sent again."""
    schedule_retention(service())
    jobs = stale_jobs(service(), queued_for_s)
    for job_id in jobs:
        service().notify_job(job_id)
    return len(jobs)


def _sweep_forever(every_s: float) -> None:
    while True:
        try:
            sweep_once(queued_for_s=every_s)
        except Exception as exc:  # the database or the broker away for a moment: next round
            log.warning("job sweep: %s", exc)
        time.sleep(every_s)


@worker_ready.connect
def _take_up_stale_jobs(**_: object) -> None:
    try:
        sweep_once(queued_for_s=0.0)
    except Exception as exc:
        log.warning("job sweep at start: %s", exc)
    threading.Thread(target=_sweep_forever, args=(settings.job_sweep_s,), name="job-sweep", daemon=True).start()
