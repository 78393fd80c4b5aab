"""Ingest and judging take the judging marks in one order: a learner's mark (dirty_learner), then
its sessions' marks (dirty_session). Ingest once took them the other way round; on PostgreSQL a
batch that met a judging job taking the same learner then waited on the job while the job waited
on it, until the server's deadlock timeout rolled one back (bench/xapi.py's single-statement PUTs
on PostgreSQL: p99 2.2 s, 12-24 statements/s; after: p99 0.3 s, 47-49/s)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

import api.jobs.judging as judging
import api.store.events as events_store
from api.core.service import Service
from api.store.keys import create_organisation
from models.tables import Job
from monitor.online.reader import collect, parse_record
from tests.api.conftest import settings_for
from tests.monitor.online.builders import Session as Built


def _events(batch: str, start_s: float) -> list[Any]:
    """Events of the learner's one session S1 (a batch marks the learner and the session)."""
    s = Built(learner="L1", session="S1", platform="learn.example", course="C1", start_s=start_s, unit="1")
    s.watch(0, 300, position=start_s, step=60)
    raw = [{**e, "id": f"{e['id']}-{batch}"} for e in s.events]
    return collect(parse_record(e, n) for n, e in enumerate(raw, 1)).events


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Iterator[Service]:
    """The store and the judging job without a worker: the test runs each side itself."""
    service = Service.from_settings(settings_for(db_url, tmp_path / "data", online_face_checks=False))
    yield service
    service.engine.dispose()


def _stored_once(service: Service) -> tuple[str, Job]:
    """One session stored: the learner and its session marked, a judging job queued."""
    with service.session() as db:
        org = create_organisation(db, "learn.example", "platform", by="test")
        events_store.store_events(db, org.id, _events("a", 0))
        db.commit()
        job = db.exec(select(Job).where(Job.kind == "judge_learners", Job.status == "queued")).one()
        return org.id, job


def test_a_batch_meeting_a_job_that_takes_its_learner_does_not_deadlock(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch is held between its two marks (whichever comes first) while the job takes the
    learner and its sessions; then the batch goes on. With the marks in the job's order the job
    waits for the batch and both finish; in the other order each waits on the other (PostgreSQL
    rolled one back after its deadlock timeout; SQLite's single writer cannot interleave them)."""
    organisation_id, job = _stored_once(service)
    reached, go = threading.Event(), threading.Event()
    first: list[str] = []

    def held(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            out = real(*args, **kwargs)
            if not first:  # the batch's first mark is written (its row locked): wait here
                first.append(name)
                reached.set()
                assert go.wait(30)
            return out
        return run

    monkeypatch.setattr(events_store, "mark_dirty", held("dirty_learner", events_store.mark_dirty))
    monkeypatch.setattr(events_store, "mark_sessions", held("dirty_session", events_store.mark_sessions))
    errors: list[BaseException] = []

    def batch() -> None:
        try:
            with service.session() as db:
                events_store.store_events(db, organisation_id, _events("b", 300))
                db.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            reached.set()

    def take() -> None:
        try:
            with service.session() as db:
                judging._take(db, db.get(Job, job.id))
                db.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    ingest = threading.Thread(target=batch)
    ingest.start()
    assert reached.wait(30)
    taker = threading.Thread(target=take)
    taker.start()
    time.sleep(0.5)  # the job reaches the lock it waits on
    go.set()
    ingest.join(30)
    taker.join(30)
    assert not ingest.is_alive() and not taker.is_alive()
    assert not errors, [f"{type(e).__name__}: {e}"[:300] for e in errors]
    assert first == ["dirty_learner"]


def _writes(service: Service) -> tuple[list[list[str]], Callable[[], None]]:
    """The dirty-mark tables each transaction writes, in order (a transaction per list)."""
    transactions: list[list[str]] = []
    current: dict[int, list[str]] = {}

    def statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        text = " ".join(sql.split()).lower()
        for table in ("dirty_learner", "dirty_session"):
            if text.startswith((f"insert into {table} ", f"update {table} ", f"delete from {table} ")):
                current.setdefault(id(conn), []).append(table)

    def ended(conn: Any) -> None:
        if id(conn) in current:
            transactions.append(current.pop(id(conn)))

    sa_event.listen(service.engine, "before_cursor_execute", statement)
    sa_event.listen(service.engine, "commit", ended)
    sa_event.listen(service.engine, "rollback", ended)

    def stop() -> None:
        sa_event.remove(service.engine, "before_cursor_execute", statement)
        sa_event.remove(service.engine, "commit", ended)
        sa_event.remove(service.engine, "rollback", ended)
    return transactions, stop


def test_every_transaction_marks_learners_before_sessions(service: Service) -> None:
    """Ingest, the job taking its batch and the job dropping the marks it judged: no transaction
    writes a learner's mark after a session's mark (the order that cannot make a cycle)."""
    transactions, stop = _writes(service)
    try:
        organisation_id, job = _stored_once(service)
        with service.session() as db:
            events_store.store_events(db, organisation_id, _events("b", 300))
            db.commit()
            running = db.get(Job, job.id)
            running.status, running.worker = "running", "test"
            db.add(running)
            db.commit()
            db.refresh(running)
        judging.run_judging(service, running, lambda *_: None)
    finally:
        stop()
    both = [t for t in transactions if {"dirty_learner", "dirty_session"} <= set(t)]
    assert len(both) >= 4, transactions  # two batches, the job's take and its drop
    for tables in both:
        assert tables.index("dirty_session") > max(i for i, t in enumerate(tables) if t == "dirty_learner"), tables
