"""A platform's learners and events: events stored idempotent by (platform, event id), in bulk;
learners enrolled per platform (the platform's own id, scoped to it), linked across platforms
only by the person id's keyed hash; and the subjects (a person, or a learner without a person
id) whose sessions must be judged again. The rules run in a job, not in the request, so a
platform's batch is acknowledged as soon as it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

import msgspec
from sqlalchemy import Table, and_, case, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from api.core.settings import ServiceSettings
from api.store.jobs import enqueue
from api.store.judging_state import add_units, mark_sessions
from api.store.replay import add_rows, capture_rows
from models.tables import DirtyLearner, Event, Job, JobKind, Learner, Organisation
from models.tables import new_id
from models.types import utcnow
from monitor.online.events import EventFields, LearningEvent

_CHUNK = 500  # ids per IN (...) and rows per INSERT: well inside SQLite's variable limit
_ENCODE = msgspec.json.Encoder()


def insert_ignoring_conflicts(db: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str],
                              update: Sequence[str] = (), where: Any = None) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (or DO UPDATE the `update` columns from the new row, for
    existing rows matching `where`), on SQLite and PostgreSQL, as one executemany of a statement
    compiled once (a VALUES list of a thousand rows costs more to compile than to run)."""
    if not rows:
        return
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    if update:
        statement = statement.on_conflict_do_update(index_elements=keys, where=where,
                                                    set_={name: statement.excluded[name] for name in update})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    db.connection().execute(statement, list(rows))


def sender(platform: Organisation) -> tuple[str, str]:
    """What a platform's native events may name as their platform: its id (what the service knows
    it by, and what its statements are taken as) or its organisation's name (what a sender
    writes); a rename of the organisation then refuses nothing."""
    return platform.id, platform.name


def in_time(settings: ServiceSettings, field: str = "at") -> Callable[[EventFields], tuple[str, str] | None]:
    """An event from before `events_not_before` or more than `max_event_future_s` ahead of the
    server's clock is refused: a platform's clock gone wrong, or events made up in advance.
    `field`: what the sender calls the time (`at` natively, `timestamp` in a statement)."""
    latest = utcnow() + timedelta(seconds=settings.max_event_future_s)
    earliest = datetime.combine(settings.events_not_before, datetime.min.time(), timezone.utc)

    def check(e: EventFields) -> tuple[str, str] | None:
        if e.at > latest:
            return field, f"{e.at.isoformat()} is later than the server's clock allows ({latest.isoformat(timespec='seconds')})"
        if e.at < earliest:
            return field, f"{e.at.isoformat()} is earlier than {settings.events_not_before.isoformat()}"
        return None

    return check


@dataclass(frozen=True)
class Stored:
    new: int
    duplicates: int
    ids: list[str]


def learners_of(db: Session, organisation_id: str, refs: Iterable[str]) -> dict[str, Learner]:
    """The platform's learners by its own ids, made where new. Another platform's learner with
    the same id is another row: nothing a platform sends reaches it."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    now = utcnow()
    insert_ignoring_conflicts(db, Learner.__table__, [  # type: ignore[arg-type]
        {"id": new_id(), "organisation_id": organisation_id, "learner_ref": ref, "person_hash": None, "created_at": now}
        for ref in wanted], ["organisation_id", "learner_ref"])
    found: dict[str, Learner] = {}
    for start in range(0, len(wanted), _CHUNK):
        for row in db.exec(select(Learner).where(Learner.organisation_id == organisation_id,
                                                 Learner.learner_ref.in_(wanted[start:start + _CHUNK]))).all():  # type: ignore[attr-defined]
            found[row.learner_ref] = row
    return found


def learner_of(db: Session, organisation_id: str, ref: str) -> Learner:
    return learners_of(db, organisation_id, [ref])[ref]


def subjects_of_course(db: Session, organisation_id: str, course: str) -> set[str]:
    """The subjects with events of one platform's course (judged again when the course changes)."""
    ids = db.exec(select(Event.learner_id).where(Event.organisation_id == organisation_id, Event.course == course)
                  .distinct()).all()
    return subjects_of_ids(db, [i for i in ids if i])


def subjects_of_ids(db: Session, learner_ids: Iterable[str]) -> set[str]:
    listed = sorted(set(learner_ids))
    out: set[str] = set()
    for start in range(0, len(listed), _CHUNK):
        out.update(row.subject for row in db.exec(select(Learner).where(Learner.id.in_(listed[start:start + _CHUNK]))).all())  # type: ignore[attr-defined]
    return out


def mark_dirty(db: Session, subjects: Iterable[str], delay_s: float = 0.0, full: bool = True) -> Job | None:
    """Mark subjects (`Learner.subject`) for judging and make sure a judging job is queued; the
    job if one was added (to be announced to the workers once committed). `full`: judged again
    from all their events (anything but new events: a course, an assessment, a person link); new
    events mark their sessions too (judging_state.mark_sessions) and pass False (issue #20)."""
    rows = [{"learner": subject, "since": utcnow(), "job_id": None, "full": full} for subject in sorted(set(subjects))]
    if not rows:
        return None
    table = DirtyLearner.__table__  # type: ignore[attr-defined]
    # A new learner is inserted; an existing one is left alone unless a judge holds it (then handed
    # back) or it must now be judged from scratch.
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["learner"],
        where=or_(table.c.job_id.is_not(None), and_(new.full, ~table.c.full)),
        set_={"job_id": None, "since": case((table.c.job_id.is_(None), table.c.since), else_=new.since),
              "full": or_(table.c.full, new.full)})
    for start in range(0, len(rows), _CHUNK):
        db.connection().execute(statement, rows[start:start + _CHUNK])
    waiting = db.exec(select(Job.id).where(Job.kind == "judge_learners", Job.status == "queued").limit(1)).first()
    return enqueue(db, JobKind.JUDGE_LEARNERS, None, delay_s=delay_s) if waiting is None else None


_EVENT_COLUMNS = {"organisation_id": "text", "event_id": "text", "learner": "text", "learner_id": "text", "session": "text",
                  "course": "text", "unit": "text", "type": "text", "at": "timestamptz", "body": "text",
                  "received_at": "timestamptz"}
_INSERT_EVENTS_PG = (
    f"INSERT INTO event ({', '.join(_EVENT_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'%({c})b::{t}[]' for c, t in _EVENT_COLUMNS.items())}) "
    "ON CONFLICT (organisation_id, event_id) DO NOTHING RETURNING event_id")


def _insert_events_postgresql(db: Session, rows: list[dict[str, Any]]) -> set[str]:
    """One short statement with one array per column (unnest): the generic multi-row VALUES form
    is a statement of thousands of placeholders that the driver parses anew each time
    (measured: 6,000 events/s against 17,000 this way)."""
    columns = {name: [row[name] for row in rows] for name in _EVENT_COLUMNS}
    raw = db.connection().connection.driver_connection  # the psycopg connection, in this transaction
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        # Binary parameters: the arrays go as they are, without quoting every JSON body as text.
        cursor.execute(_INSERT_EVENTS_PG, columns, binary=True)
        return {event_id for (event_id,) in cursor.fetchall()}


_INSERT_EVENTS_SQLITE = (f"INSERT INTO event ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(_EVENT_COLUMNS))}) "
                         "ON CONFLICT (organisation_id, event_id) DO NOTHING")


def sqlite_time(instant: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores (naive UTC, as UTCDateTime binds it)."""
    return instant.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert_events_sqlite(db: Session, rows: list[dict[str, Any]]) -> set[str]:
    """executemany on the driver's cursor (the ORM's per-row parameter processing cost more than
    SQLite's work). The new rows are the last `rowcount` row ids: SQLite has one writer, this
    transaction holds the lock from its first INSERT, and an integer key takes max + 1."""
    raw = db.connection().connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    received = sqlite_time(rows[0]["received_at"])  # one instant for the whole batch
    try:
        cursor.executemany(_INSERT_EVENTS_SQLITE, [
            (r["organisation_id"], r["event_id"], r["learner"], r["learner_id"], r["session"], r["course"], r["unit"], r["type"],
             sqlite_time(r["at"]), r["body"], received) for r in rows])
        inserted = cursor.rowcount
        if inserted <= 0:
            return set()
        last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
        found = cursor.execute("SELECT event_id FROM event WHERE id BETWEEN ? AND ?", (last - inserted + 1, last)).fetchall()
        return {event_id for (event_id,) in found}
    finally:
        cursor.close()


def store_events(db: Session, organisation_id: str, events: list[LearningEvent],
                 judge_delay_s: float = 0.0) -> tuple[Stored, Job | None]:
    """Store the events not stored before; the caller commits. Returns what was stored and
    the judging job queued, if one was.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING: the rows it returns are the new ones, so two
    clients sending the same batch at once cannot both count it; and the transaction's first
    statement is a write (on SQLite it takes the write lock at once instead of reading first and
    finding its snapshot stale when it wants to write)."""
    now = utcnow()
    learners = learners_of(db, organisation_id, (e.learner for e in events))
    rows = [{"organisation_id": organisation_id, "event_id": e.id, "learner": e.learner,
             "learner_id": learners[e.learner].id, "session": e.session,
             "course": e.course, "unit": e.unit, "type": e.type, "at": e.at, "body": _ENCODE.encode(e).decode(),
             "received_at": now} for e in events]
    new_ids: set[str] = set()
    if rows and db.get_bind().dialect.name == "postgresql":
        new_ids = _insert_events_postgresql(db, rows)
    elif rows:
        new_ids = _insert_events_sqlite(db, rows)
    fresh = [e for e in events if e.id in new_ids]
    add_rows(db, [row for e in fresh for row in capture_rows(organisation_id, learners[e.learner], (e,))])  # the replay index
    add_units(db, organisation_id, {(e.course, e.unit) for e in fresh})
    # The learners' marks before their sessions' marks: the order a judging job takes them in
    # (api/jobs/judging.py `_take`, and drops them in). The other order made a lock cycle on
    # PostgreSQL whenever a batch met a job taking the same learner: both stalled for the
    # deadlock timeout, then one was rolled back (bench/xapi.py's PUTs: p99 2 s, 12-24/s).
    queued = mark_dirty(db, (learners[e.learner].subject for e in fresh), judge_delay_s, full=False)
    mark_sessions(db, {(learners[e.learner].id, e.session) for e in fresh})
    return Stored(len(fresh), len(events) - len(fresh), [e.id for e in fresh]), queued
