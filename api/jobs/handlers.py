"""Which function runs which kind of job: wired where a worker is set up (the in-process
worker's child, the Celery worker, tests that run jobs directly), so that the runner knows no
job module and no import goes round in a circle."""

from __future__ import annotations

from api.jobs.analysis import run_analysis
from api.jobs.judging import run_judging
from api.jobs.retention import run_retention
from api.jobs.runner import register
from models.tables import JobKind


def register_all() -> None:
    register(JobKind.ANALYZE_CLASS, run_analysis)
    register(JobKind.ANALYZE_CLASS_LATEST_PHOTOS, run_analysis)
    register(JobKind.JUDGE_LEARNERS, run_judging)
    register(JobKind.RETENTION, run_retention)
