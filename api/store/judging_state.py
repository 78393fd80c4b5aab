"""What judging keeps between rounds so that a round reads only what changed (issue #20): the
sessions that got events (marked at ingest, taken by a judging job, handed back when events come
during the round), the units each course was seen with, each judged session's place in time and
what it hands on, and each subject's summary (monitor/online/carry.py says what and why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import delete, select as sa_select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models.tables import CourseUnit, DirtySession, SessionState, SubjectState
from models.types import utcnow

_CHUNK = 400


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _dialect(db: Session) -> Any:
    return postgresql if db.get_bind().dialect.name == "postgresql" else sqlite


# --- at ingest ----------------------------------------------------------------------------------

def mark_sessions(db: Session, pairs: Iterable[tuple[str, str]]) -> None:
    """(learner id, session) pairs that got events. A pair a judging job holds is handed back
    (judged again in the next round); a pair already waiting is left alone (no hot-row updates)."""
    rows = [{"learner_id": learner_id, "session": session, "job_id": None} for learner_id, session in sorted(set(pairs))]
    if not rows:
        return
    table = DirtySession.__table__  # type: ignore[attr-defined]
    statement = _dialect(db).insert(table)
    statement = statement.on_conflict_do_update(index_elements=["learner_id", "session"], where=table.c.job_id.is_not(None),
                                                set_={"job_id": None})
    for chunk in _chunks(rows):
        db.connection().execute(statement, chunk)


def add_units(db: Session, organisation_id: str, pairs: Iterable[tuple[str, str | None]]) -> None:
    rows = [{"organisation_id": organisation_id, "course": course, "unit": unit}
            for course, unit in sorted({(c, u) for c, u in pairs if u is not None})]
    if rows:
        table = CourseUnit.__table__  # type: ignore[attr-defined]
        statement = _dialect(db).insert(table).on_conflict_do_nothing(index_elements=["organisation_id", "course", "unit"])
        for chunk in _chunks(rows):
            db.connection().execute(statement, chunk)


def units_of(db: Session, courses: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Every unit each (platform, course) was seen with, sorted."""
    listed = sorted(set(courses))
    out: dict[tuple[str, str], list[str]] = {c: [] for c in listed}
    for chunk in _chunks(listed):
        for org, course, unit in db.exec(select(CourseUnit.organisation_id, CourseUnit.course, CourseUnit.unit).where(
                tuple_(CourseUnit.organisation_id, CourseUnit.course).in_(chunk))).all():  # type: ignore[arg-type]
            out[(org, course)].append(unit)
    return {c: sorted(u) for c, u in out.items()}


# --- a judging job's sessions ---------------------------------------------------------------------

def take_sessions(db: Session, job_id: str, learner_ids: Iterable[str]) -> None:
    """The job takes the marked sessions of the subjects it took (and keeps those it took before)."""
    for chunk in _chunks(sorted(set(learner_ids))):
        db.exec(update(DirtySession).where(DirtySession.learner_id.in_(chunk)).values(job_id=job_id))  # type: ignore[attr-defined,call-overload]


def taken_sessions(db: Session, job_id: str, learner_ids: Iterable[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted(set(learner_ids))):
        out.update(db.exec(select(DirtySession.learner_id, DirtySession.session).where(
            DirtySession.job_id == job_id, DirtySession.learner_id.in_(chunk))).all())  # type: ignore[attr-defined]
    return out


def release_sessions(db: Session, job_id: str, failed_learners: Iterable[str]) -> None:
    """At the round's end: the judged sessions' marks dropped; those of subjects that failed
    handed back (judged when their back-off has passed)."""
    failed = sorted(set(failed_learners))
    for chunk in _chunks(failed):
        db.exec(update(DirtySession).where(DirtySession.job_id == job_id, DirtySession.learner_id.in_(chunk))  # type: ignore[attr-defined,call-overload]
                .values(job_id=None))
    db.exec(delete(DirtySession).where(DirtySession.job_id == job_id))  # type: ignore[call-overload]


# --- the subjects' summaries ----------------------------------------------------------------------

def subject_states(db: Session, subjects: Iterable[str]) -> dict[str, SubjectState]:
    out: dict[str, SubjectState] = {}
    for chunk in _chunks(sorted(set(subjects))):
        out.update((r.subject, r) for r in db.exec(select(SubjectState).where(SubjectState.subject.in_(chunk))).all())  # type: ignore[attr-defined]
    return out


@dataclass(frozen=True)
class Judged:
    """A judged session's place in time and what it hands on (a session_state row, read bare)."""

    subject: str
    learner_id: str
    session: str
    start_s: float
    end_s: float
    contribution: dict[str, Any]


_UNION = 200  # subjects a statement (SQLite takes at most 500 terms in a compound SELECT)


def sessions_ending_from(db: Session, instants: dict[str, float]) -> dict[str, list[Judged]]:
    """Each subject's judged sessions that end at or after its instant (its cut: every session an
    incremental round reads or sums up does, monitor/online/carry.py), for many subjects in one
    statement a few hundred: a UNION ALL of one range of the (subject, end_s) index each. Asked
    subject by subject, a round of a thousand learners spent most of its time in round trips."""
    table = SessionState.__table__  # type: ignore[attr-defined]
    columns = (table.c.subject, table.c.learner_id, table.c.session, table.c.start_s, table.c.end_s, table.c.contribution)
    out: dict[str, list[Judged]] = {subject: [] for subject in instants}
    for chunk in _chunks(sorted(instants.items()), _UNION):
        parts = [sa_select(*columns).where(table.c.subject == subject, table.c.end_s >= instant) for subject, instant in chunk]
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        for row in db.connection().execute(statement):
            out[row[0]].append(Judged(*row))
    return out


def keep_states(db: Session, rows: list[dict[str, Any]], summaries: list[dict[str, Any]],
                full: dict[str, list[str]]) -> None:
    """Upsert the judged sessions' states and the subjects' summaries. `full`: subject -> its
    learners, for subjects judged from scratch (their sessions not judged now are gone)."""
    dialect = _dialect(db)
    now = utcnow()
    for subject, learners in full.items():
        kept = {(r["learner_id"], r["session"]) for r in rows if r["subject"] == subject}
        for chunk in _chunks(sorted(learners)):
            for learner_id, session in db.exec(select(SessionState.learner_id, SessionState.session).where(
                    SessionState.learner_id.in_(chunk))).all():  # type: ignore[attr-defined]
                if (learner_id, session) not in kept:
                    db.exec(delete(SessionState).where(SessionState.learner_id == learner_id,  # type: ignore[call-overload]
                                                       SessionState.session == session))
    if rows:
        table = SessionState.__table__  # type: ignore[attr-defined]
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(index_elements=["learner_id", "session"], set_={
            c: statement.excluded[c] for c in ("subject", "platform", "start_s", "end_s", "contribution")})
        for chunk in _chunks(rows):
            db.connection().execute(statement, chunk)
    if summaries:
        table = SubjectState.__table__  # type: ignore[attr-defined]
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(index_elements=["subject"], set_={
            c: statement.excluded[c] for c in ("cut_s", "carried", "units", "updated_at")})
        for chunk in _chunks(summaries):
            db.connection().execute(statement, [{**s, "updated_at": now} for s in chunk])
