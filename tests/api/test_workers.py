"""Jobs survive their workers: Celery workers on a real Redis broker, one killed with SIGKILL in
the middle of an analysis; another finishes the job with the same report, nothing stored twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis
from sqlmodel import func, select

from models.tables import ClassReportRecord, HourResult, Job
from tests.api.conftest import REDIS_HOST, REDIS_PORT, World, make_world, need_server
from tests.api.test_classes_api import _register, _upload, cli_report, sample, without_ids  # noqa: F401  (fixtures)

CELERY = str(Path(sys.executable).parent / "celery")
REDIS_DB = 9  # kept for these tests, emptied before each


@pytest.fixture
def celery_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    need_server("Redis", REDIS_HOST, REDIS_PORT)
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB).flushdb()
    yield from make_world(db_url, tmp_path / "data", queue="celery", redis_url=redis_url, job_lease_s=4.0)


def _start_worker(w: World, log: Path) -> subprocess.Popen[bytes]:
    s = w.service.settings
    env = {**os.environ, "MONITOR_DATABASE_URL": s.db_url, "MONITOR_DATA_DIR": str(s.data_dir),
           "MONITOR_CACHE_DIR": str(s.cache_dir), "MONITOR_REDIS_URL": s.redis_url, "MONITOR_JOB_LEASE_S": "4"}
    return subprocess.Popen([CELERY, "-A", "api.jobs.celery_app", "worker", "--pool=solo", "-Q", "monitor",
                             "--without-mingle", "--without-gossip", "--loglevel=info"],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _job(w: World, job_id: str) -> Job:
    with w.service.session() as db:
        job = db.get(Job, job_id)
        assert job is not None
        return job


def _until(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_leaves_its_job_to_another(celery_world: World, sample: Path, cli_report: dict[str, Any],  # noqa: F811
                                                    tmp_path: Path) -> None:
    w = celery_world
    manifest = json.loads(sample.read_text(encoding="utf-8"))
    klass = _register(w, manifest)
    for ref in manifest["recordings"]:
        assert _upload(w, klass["id"], sample.parent / ref["path"], ref.get("start")).status_code == 201
    log = tmp_path / "workers.log"
    first = _start_worker(w, log)
    try:
        job_id = w.client.post(f"/classes/{klass['id']}/analyses", headers=w.h("inst_a")).json()["id"]
        _until(lambda: _job(w, job_id).progress > 0.05, 120, "the first worker to be under way")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert _job(w, job_id).status == "running"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    second = _start_worker(w, log)
    try:
        _until(lambda: _job(w, job_id).status in ("done", "failed"), 180, "the second worker to finish the job")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    job = _job(w, job_id)
    assert (job.status, job.attempts) == ("done", 2), (job.error, log.read_text()[-3000:])
    served = w.client.get(f"/classes/{klass['id']}/report", headers=w.h("inst_a")).json()
    assert served.pop("judged_by")["official"] is True and without_ids(served) == cli_report
    with w.service.session() as db:
        assert db.exec(select(func.count()).select_from(ClassReportRecord)).one() == 1
        assert db.exec(select(func.count()).select_from(HourResult)).one() == len(cli_report["hours"])
