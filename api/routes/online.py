"""Platforms: events (native or xAPI, JSON array or NDJSON, gzip accepted), the xAPI statements
endpoint, the course catalogue and learners' assessments; session verdicts to read back.
A platform sees only its own learners' sessions; inspectors see all."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from api.core.bodies import Instant, QueryInstant, json_body, read_limited
from api.deps import DB, Platform, PlatformOrInspector, Svc, audit, ingest_limit

from api.core.problems import Problem, documented, not_found
from api.store.events import Stored, insert_ignoring_conflicts, learners_of, mark_dirty, store_events, subjects_of_course
from api.store.faces import own_captures
from api.core.settings import ServiceSettings
from models.retry import write_unit
from models.tables import Assessment, Course, Job, LearnerSession, LearnerSessionPublic
from models.types import utcnow
from monitor.online.catalogue import Course as CourseSpec
from monitor.online.events import EventFields
from monitor.online.reader import ReadResult, parse_text

router = APIRouter(tags=["online"])
_NAME_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _plain_name(image: str) -> bool:
    """A relative name without a way out: parts of letters, digits, `._-`, none `.` or `..`."""
    return len(image) <= 200 and all(_NAME_PART.fullmatch(part) for part in image.split("/"))


class RejectedEvent(BaseModel):
    line: int = Field(description="1-based line of NDJSON, or item of a JSON array")
    event_id: str | None
    field: str
    message: str


class BatchResult(BaseModel):
    accepted: int = Field(description="new events stored")
    duplicates: int = Field(description="events stored before (same id), counted once")
    ignored: int = Field(description="xAPI statements that say nothing the rules use")
    rejected: list[RejectedEvent]


def _in_time(settings: ServiceSettings) -> Callable[[EventFields], tuple[str, str] | None]:
    """An event from before `events_not_before` or more than `max_event_future_s` ahead of the
    server's clock is refused: a platform's clock gone wrong, or events made up in advance."""
    latest = utcnow() + timedelta(seconds=settings.max_event_future_s)
    earliest = datetime.combine(settings.events_not_before, datetime.min.time(), timezone.utc)

    def check(e: EventFields) -> tuple[str, str] | None:
        if e.at > latest:
            return "at", f"{e.at.isoformat()} is later than the server's clock allows ({latest.isoformat(timespec='seconds')})"
        if e.at < earliest:
            return "at", f"{e.at.isoformat()} is earlier than {settings.events_not_before.isoformat()}"
        return None

    return check


async def _ingest(request: Request, db: DB, caller: Platform, svc: Svc) -> tuple[ReadResult, BatchResult, list[str]]:
    raw = await read_limited(request, svc.settings.max_batch_bytes, "the batch")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the batch is not UTF-8 text", "bad-batch") from None
    name = caller.organisation.name
    in_time = _in_time(svc.settings)
    read = await run_in_threadpool(parse_text, text, name, name, in_time)
    named = {i for e in read.events for i in ([e.image] if e.image else []) + (e.images or [])}
    if named:  # an image is named by the id POST /captures gave: never a path into the server's files
        unknown = {i for i in named if not _plain_name(i)}
        if svc.settings.online_face_checks:  # the images are opened: each must be this platform's capture
            unknown |= named - await run_in_threadpool(own_captures, db, caller.org_id, named - unknown)
        if unknown:
            def check(e):  # type: ignore[no-untyped-def]
                bad = [i for i in ([e.image] if e.image else []) + (e.images or []) if i in unknown]
                if bad:
                    return "image", f"{bad[0]!r} is not a capture this platform uploaded (POST /captures)"
                return in_time(e)

            read = await run_in_threadpool(parse_text, text, name, name, check)
    total = len(read.events) + len(read.bad) + read.duplicates + read.ignored
    if total > svc.settings.max_batch_events:
        raise Problem(413, f"the batch holds {total} records, at most {svc.settings.max_batch_events} allowed")

    def store() -> tuple[Stored, Job | None]:
        try:
            stored, queued = store_events(db, caller.org_id, read.events, svc.settings.judge_delay_s)
            audit(db, caller, "events.batch", caller.org_id, accepted=stored.new,
                  duplicates=stored.duplicates + read.duplicates, rejected=len(read.bad))
            db.commit()
            return stored, queued
        except Exception:
            db.rollback()
            raise

    stored, queued = await run_in_threadpool(write_unit, store)
    if queued is not None:
        svc.notify_job(queued.id)
    result = BatchResult(accepted=stored.new, duplicates=stored.duplicates + read.duplicates, ignored=read.ignored,
                         rejected=[RejectedEvent(line=b.line, event_id=b.event_id, field=b.field, message=b.message)
                                   for b in read.bad])
    return read, result, stored.ids


@router.post("/events", response_model=BatchResult,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
async def post_events(request: Request, db: DB, caller: Platform, svc: Svc) -> BatchResult:
    """A batch of learning events: a JSON array or NDJSON, native events and xAPI statements alike
    (gzip with Content-Encoding: gzip). Valid events are stored even when others are rejected;
    each rejected one is listed with its line, id, field and reason. Re-sending is harmless."""
    return (await _ingest(request, db, caller, svc))[1]


@router.put("/courses/{course_ref}", response_model=dict[str, Any])
async def put_course(course_ref: str, request: Request, db: DB, caller: Platform, svc: Svc) -> dict[str, Any]:
    """A course of the catalogue: unit order, total and online hours, occupation (B5, B7)."""
    spec = CourseSpec.model_validate(await json_body(request, svc.settings.max_json_bytes, "the course"))
    body = spec.model_dump(mode="json")
    insert_ignoring_conflicts(db, Course.__table__, [{"organisation_id": caller.org_id, "course_ref": course_ref,  # type: ignore[arg-type]
                                                      "body": body, "updated_at": utcnow()}],
                              ["organisation_id", "course_ref"], update=["body", "updated_at"])
    # Only this platform's course changed: only its learners of the course are judged again.
    queued = mark_dirty(db, subjects_of_course(db, caller.org_id, course_ref))
    audit(db, caller, "course.put", course_ref)
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"course": course_ref, **body}


class AssessmentIn(BaseModel):
    learner: str = Field(min_length=1, max_length=200)
    course: str = Field(min_length=1, max_length=200)
    assessed_at: Instant | None = None


@router.post("/assessments", response_model=dict[str, int])
def post_assessments(items: Annotated[list[AssessmentIn], Field(max_length=10_000)], db: DB, caller: Platform, svc: Svc) -> dict[str, int]:
    """Learners' earlier subsidised courses and their assessment dates (B8)."""
    rows = [{"organisation_id": caller.org_id, **a.model_dump()} for a in items]
    for row in rows:
        insert_ignoring_conflicts(db, Assessment.__table__, [row], ["organisation_id", "learner", "course"],  # type: ignore[arg-type]
                                  update=["assessed_at"])
    learners = learners_of(db, caller.org_id, (a.learner for a in items))
    queued = mark_dirty(db, (learners[a.learner].subject for a in items))
    audit(db, caller, "assessments.post", caller.org_id, count=len(items))
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"stored": len(items)}


@router.get("/sessions", response_model=list[LearnerSessionPublic])
def list_sessions(db: DB, caller: PlatformOrInspector,
                  learner: str | None = None, verdict: str | None = None,
                  since: QueryInstant | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  after: Annotated[str | None, Query(description="cursor: the last id of the previous page")] = None,
                  ) -> list[LearnerSessionPublic]:
    query = select(LearnerSession).order_by(LearnerSession.id)
    if caller.role == "platform":
        query = query.where(LearnerSession.organisation_id == caller.org_id)
    if learner:
        query = query.where(LearnerSession.learner == learner)
    if verdict:
        query = query.where(LearnerSession.verdict == verdict)
    if since:
        query = query.where(LearnerSession.start >= since)
    if after:
        query = query.where(LearnerSession.id > after)
    rows = list(db.exec(query.limit(limit)).all())
    return [for_caller(r, caller.role, caller.org_id) for r in rows]


@router.get("/sessions/{session_id}", response_model=LearnerSessionPublic)
def read_session(session_id: str, db: DB, caller: PlatformOrInspector) -> LearnerSessionPublic:
    row = db.get(LearnerSession, session_id)
    if row is None or (caller.role == "platform" and row.organisation_id != caller.org_id):
        raise not_found(f"session {session_id}")
    return for_caller(row, caller.role, caller.org_id)


_SCORES = ("measured", "threshold", "evidence")


def for_caller(row: LearnerSession, role: str, organisation_id: str) -> LearnerSessionPublic:
    """A platform learns whether a face check passed, never its score or what it was compared
    with (GB/T 38671-2020 6.1.6.6): those fields of face findings are left out for it. Nor does
    it learn another platform's side of a finding (the same person learning there at the same
    time): that the other session exists and overlaps, not where, what or which platform."""
    public = LearnerSessionPublic.model_validate(row)
    if role == "platform":
        public.findings = [_platform_side(f, organisation_id) for f in public.findings]
    return public


def _platform_side(finding: dict[str, Any], organisation_id: str) -> dict[str, Any]:
    if str(finding.get("rule", "")).startswith("online.face_"):
        return {k: v for k, v in finding.items() if k not in _SCORES}
    evidence = finding.get("evidence") or {}
    other = evidence.get("other_platform_id")
    if other is not None and other != organisation_id:
        # Everything that names the other side goes: evidence, the message's arguments, the text.
        return {**finding, "evidence": {"other_platform": "another platform"}, "message": None, "args": {},
                "detail": "learning at the same time in a session on another platform"}
    return finding
