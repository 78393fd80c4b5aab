"""bench/scaleout.py in every test run: the database and broker, the API and two Celery workers
on hosts of their own (network namespaces joined by a bridge) sharing a storage folder; the jobs
spread over both workers, a worker cut off the network mid-job leaves its job to the other, and
every report is the single-process CLI's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.scaleout import PG_BIN, run_scaleout
from tests.conftest import missing


@pytest.mark.slow  # a long run: `make test` runs it after the main suite (see the Makefile)
def test_two_workers_on_their_own_hosts_share_the_jobs_and_take_over_a_cut_ones(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("ip") or not (PG_BIN / "initdb").is_file():
        missing("the scale-out hosts need root, iproute2 (ip netns) and PostgreSQL's server binaries")
    result = run_scaleout(6, tmp_path)
    print(result.report())
    assert set(result.statuses) == {"done"} and sum(result.statuses.values()) == 6
    assert result.jobs_by_worker["worker1"] >= 1 and result.jobs_by_worker["worker2"] >= 1, result.report()
    assert result.cut_job is not None and result.cut_job_finished_by == "worker2"
    assert result.reports_same == result.classes == 6
