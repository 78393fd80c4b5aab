"""The machine's PostgreSQL and Redis, for the benches that run the Celery deployment: a fresh
database per run, and restarting either server (root; the commands of the machine notes); and
the commands and checks of the service's own processes that those benches start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import redis
from sqlalchemy import create_engine, text

BIN = Path(sys.executable).parent
POSTGRES = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # it may be restarted meanwhile
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_url(db: int) -> str:
    """A Redis database of the machine's server, emptied."""
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).flushdb()
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


def restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True, timeout=120)


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True,
                   timeout=30)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(REDIS_PORT),
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True, capture_output=True, timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if redis.Redis(host=REDIS_HOST, port=REDIS_PORT).ping():
                return
        except redis.RedisError:
            time.sleep(0.2)
    raise RuntimeError("Redis did not come back")


def celery_worker(name: str, *options: str) -> list[str]:
    """The command of one Celery worker of the service, named `name` (options: its pool, log level)."""
    return [str(BIN / "celery"), "-A", "api.jobs.celery_app", "worker", "-Q", "monitor", "-n", f"{name}@%h",
            "--without-mingle", "--without-gossip", *options]


def wait_healthy(url: str, timeout_s: float = 60.0) -> None:
    """Until the service at `url` answers /health."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service at {url} did not come up")
