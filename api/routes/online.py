"""Platforms: events (native or xAPI, JSON array or NDJSON, gzip accepted), the xAPI statements
endpoint, the course catalogue and learners' assessments; session verdicts to read back.
A platform sees only its own learners' sessions; inspectors see all."""

from __future__ import annotations

from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.core.bodies import NO_NUL, Instant, QueryInstant, Text, json_body, read_limited, refuse_unstorable
from api.core.problems import Problem, documented
from api.deps import DB, Platform, PlatformOrInspector, Svc, audit, ingest_limit
from api.store import courses
from api.store.events import Stored, in_time, sender, store_events
from api.store.faces import foreign_images
from api.store.sessions import for_caller, session_row, sessions_page
from models.retry import write_unit
from models.tables import Job, LearnerSessionPublic
from monitor.online.catalogue import Course as CourseSpec
from monitor.online.events import EventFields
from monitor.online.reader import ReadResult, parse_text
from monitor.online.table import gc_paused

router = APIRouter(tags=["online"])


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


_TEXT_FIELDS = ("id", "learner", "session", "course", "unit", "platform", "popup", "nonce", "image")


def _without_nul(then: Callable[[EventFields], tuple[str, str] | None]) -> Callable[[EventFields], tuple[str, str] | None]:
    """An event naming anything with a NUL character is refused on its own, the batch's others
    kept: PostgreSQL's text holds no NUL, and the insert would otherwise fail the whole batch."""
    def check(e: EventFields) -> tuple[str, str] | None:
        for name in _TEXT_FIELDS:
            value = getattr(e, name)
            if isinstance(value, str) and "\x00" in value:
                return name, "holds a NUL character (0x00), which no stored text may hold"
        if e.images and any("\x00" in image for image in e.images):
            return "images", "holds a NUL character (0x00), which no stored text may hold"
        return then(e)

    return check


async def _ingest(request: Request, db: DB, caller: Platform, svc: Svc) -> tuple[ReadResult, BatchResult, list[str]]:
    raw = await read_limited(request, svc.settings.max_batch_bytes, "the batch")
    with gc_paused():  # reading, checking and storing the batch's objects without a collector pass over them
        return await _ingest_read(request, db, caller, svc, raw)


async def _ingest_read(request: Request, db: DB, caller: Platform, svc: Svc,
                       raw: bytes) -> tuple[ReadResult, BatchResult, list[str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the batch is not UTF-8 text", "bad-batch") from None
    platform, arrived = sender(caller.organisation), in_time(svc.settings)
    if "\\u0000" in text:  # (one scan of the batch; JSON can only carry a NUL escaped)
        arrived = _without_nul(arrived)
    read = await run_in_threadpool(parse_text, text, caller.org_id, platform, arrived)
    foreign = await run_in_threadpool(foreign_images, db, caller.org_id, read.events, svc.settings.online_face_checks)
    if foreign:  # read again, refusing the events that name them (the rest of the batch is kept)
        def check(e: EventFields) -> tuple[str, str] | None:
            bad = [i for i in ([e.image] if e.image else []) + (e.images or []) if i in foreign]
            if bad:
                return "image", f"{bad[0]!r} is not a capture this platform uploaded (POST /captures)"
            return arrived(e)

        read = await run_in_threadpool(parse_text, text, caller.org_id, platform, check)
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


class PlatformCourse(CourseSpec):
    """A platform's course; `blended_for` names the institution (by its name) whose blended course
    this is the online theory part of (003 §21): judged so where that institution declares it
    (PUT /blended-courses/{course_ref}), with its hours and under the 40 % cap."""

    blended_for: Text | None = Field(default=None, min_length=1, max_length=200)


@router.put("/courses/{course_ref}", response_model=dict[str, Any])
async def put_course(course_ref: Annotated[str, Path(pattern=NO_NUL)], request: Request, db: DB, caller: Platform,
                     svc: Svc) -> dict[str, Any]:
    """A course of the catalogue: unit order, total and online hours, occupation (B5, B7); with
    `blended_for`, the online part of that institution's blended course."""
    spec = PlatformCourse.model_validate(await json_body(request, svc.settings.max_json_bytes, "the course"))
    refuse_unstorable(spec.model_dump(mode="json"), "the course")
    wrong = courses.mode_problem(spec.model_dump(mode="json", include=spec.model_fields_set), "platform")
    if wrong is not None:
        raise Problem(422, wrong, "validation")
    body = courses.as_judged(spec.model_dump(mode="json", exclude={"blended_for"}))
    if spec.blended_for is not None:
        body["blended_for"] = courses.institution_named(db, spec.blended_for)
    queued = courses.put_course(db, caller.org_id, course_ref, body)
    audit(db, caller, "course.put", course_ref, **({"blended_for": body["blended_for"]} if spec.blended_for else {}))
    db.commit()
    if queued is not None:
        svc.notify_job(queued.id)
    return {"course": course_ref, **body, **({"blended_for": spec.blended_for} if spec.blended_for else {})}


class AssessmentIn(BaseModel):
    learner: str = Field(min_length=1, max_length=200)
    course: str = Field(min_length=1, max_length=200)
    assessed_at: Instant | None = None


@router.post("/assessments", response_model=dict[str, int])
def post_assessments(items: Annotated[list[AssessmentIn], Field(max_length=10_000)], db: DB, caller: Platform, svc: Svc) -> dict[str, int]:
    """Learners' earlier subsidised courses and their assessment dates (B8)."""
    queued = courses.put_assessments(db, caller.org_id, (a.model_dump() for a in items))
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
    return sessions_page(db, caller, learner, verdict, since, after, limit)


@router.get("/sessions/{session_id}", response_model=LearnerSessionPublic)
def read_session(session_id: str, db: DB, caller: PlatformOrInspector) -> LearnerSessionPublic:
    return for_caller(session_row(db, caller, session_id), caller.role, caller.org_id)
