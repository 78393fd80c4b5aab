"""The service under test: a real app (lifespan, in-process worker) on a real database per test:
a SQLite file always, and PostgreSQL (127.0.0.1:5432, database `test`) where it answers. Without
PostgreSQL those tests skip with the reason; in CI they fail instead (they must run there)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.store.keys import create_key, create_organisation
from api.main import create_app
from api.core.service import Service
from api.core.settings import ServiceSettings
from models.migrate import upgrade
from tests.conftest import missing

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_server(name: str, host: str, port: int) -> None:
    if not _answers(host, port):
        missing(f"{name} is not answering on {host}:{port} (see README: the test servers)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a new schema-less database on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'monitor.db'}"
        upgrade(url)
        yield url
        return
    need_server("PostgreSQL", "127.0.0.1", 5432)
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    return url


def settings_for(url: str, data_dir: Path, **extra: Any) -> ServiceSettings:
    return ServiceSettings(data_dir=data_dir, database_url=url, cache_dir=data_dir / "cache", **extra)


@dataclass
class World:
    """A running app with one organisation of each kind (two institutions, two platforms) and a key each."""

    client: TestClient
    service: Service
    keys: dict[str, str]
    orgs: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def place(self, who: str, jurisdiction: str) -> None:
        """An admin puts an organisation in a jurisdiction (the demo's, for the 1-minute sample)."""
        r = self.client.patch(f"/admin/organisations/{self.orgs[who]}", json={"jurisdiction": jurisdiction},
                              headers=self.h("admin"))
        assert r.status_code == 200, r.text

    def wait_jobs(self, timeout_s: float = 120.0) -> None:
        """Until no job is queued or running (the in-process worker drains them)."""
        from sqlmodel import select

        from models.tables import Job

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.service.session() as db:
                busy = db.exec(select(Job).where(Job.status.in_(["queued", "running"]))).all()  # type: ignore[attr-defined]
                failed = db.exec(select(Job).where(Job.status == "failed")).all()
            assert not failed, [(j.kind, j.error) for j in failed]
            if not busy:
                return
            time.sleep(0.1)
        raise AssertionError("jobs did not finish in time")


ORGS = {"inst_a": ("Zhengzhou Welding School", "institution"), "inst_b": ("Luoyang Cooking School", "institution"),
        "plat_p": ("learn.example", "platform"), "plat_q": ("study.example", "platform"),
        "inspector": ("Zhengzhou HRSS Inspectorate", "inspectorate"), "admin": ("Operators", "admin")}


def make_world(url: str, data_dir: Path, **settings: Any) -> Iterator[World]:
    """Face checks are on by default in the service; most tests here are about other rules and
    compare with the CLI without faces, so they run as a deployment that judges faces elsewhere
    (the verdicts then say face checks were off). The face tests turn them on."""
    settings.setdefault("online_face_checks", False)
    app = create_app(settings_for(url, data_dir, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        service: Service = app.state.service
        keys, orgs = {}, {}
        with service.session() as db:
            for who, (name, kind) in ORGS.items():
                # The schools run the 1-minute sample class: an admin puts them in the demo jurisdiction.
                org = create_organisation(db, name, kind, by="test", jurisdiction="demo" if kind == "institution" else None)
                orgs[who] = org.id
                keys[who] = create_key(db, org, f"{who} person", by="test")[1]
        yield World(client, service, keys, orgs)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(db_url, tmp_path / "data")


@pytest.fixture
def sqlite_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(sqlite_url, tmp_path / "data")
