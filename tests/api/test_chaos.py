"""A short run of bench/chaos.py in every test run: the API and two Celery workers killed with
SIGKILL, PostgreSQL and Redis restarted, at random moments while recordings are uploaded,
analyses asked for and events streamed; at the end nothing acknowledged is lost or doubled, every
job is done and every report and verdict is the one the CLI gives for the same input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.chaos import FAULTS, run_chaos
from tests.api.conftest import REDIS_HOST, REDIS_PORT, need_server
from tests.conftest import missing


@pytest.mark.slow  # a long run: `make test` runs it after the main suite (see the Makefile)
def test_kills_and_restarts_lose_and_double_nothing(tmp_path: Path) -> None:
    need_server("PostgreSQL", "127.0.0.1", 5432)
    need_server("Redis", REDIS_HOST, REDIS_PORT)
    if os.geteuid() != 0 or not (shutil.which("pg_ctlcluster") and shutil.which("redis-server")):
        missing("restarting PostgreSQL and Redis needs root and their commands (pg_ctlcluster, redis-server)")
    result = run_chaos(45, list(FAULTS), seed=3, classes=3, learners=20, folder=tmp_path)
    print(result.report())
    assert set(result.faults) == set(FAULTS), result.report()  # each kind of fault struck at least once
    assert result.server_errors == []
    assert result.events_sent > 0 and result.events_stored == result.events_sent and result.event_ids_match
    assert result.recordings_stored == result.recordings_acknowledged == 6
    assert set(result.jobs) == {"done"}, result.report()
    assert result.reports_same == result.classes == 3
    assert result.sessions > 0 and result.sessions_same
