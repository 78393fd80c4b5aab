"""The tables, split as `XBase / X(table) / XCreate / XPublic` where the API reads or writes them.

Why these shapes:
- Every tenant-owned row carries `organisation_id`, so every query can be scoped by it (another
  tenant's object is then simply not found).
- Reports, findings and event bodies are kept as the JSON the analysis core produced: the stored
  verdict is the CLI's verdict, byte for byte; the columns beside it exist to filter and sort.
- Decisions and audit entries are append-only rows; nothing in the service updates or deletes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


def _when(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSON, **kw))


# --- organisations and keys -----------------------------------------------------------------

ORGANISATION_KINDS = ("institution", "platform", "inspectorate", "admin")
ROLE_OF_KIND = {"institution": "institution", "platform": "platform", "inspectorate": "inspector", "admin": "admin"}


class OrganisationBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, unique=True)
    kind: str = Field(max_length=20)


class Organisation(OrganisationBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    created_at: datetime = _when()


class OrganisationCreate(OrganisationBase):
    pass


class OrganisationPublic(OrganisationBase):
    id: str
    created_at: datetime


class ApiKey(SQLModel, table=True):
    """A key is `tm_<id>_<secret>`; only sha256(secret) is kept. The secret is 256 random bits,
    so a fast hash is enough (no password to stretch) and lookup by id keeps it one row."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    role: str = Field(max_length=20)
    person: str = Field(max_length=200)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = _when()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(SQLModel):
    id: str
    organisation_id: str
    role: str
    person: str
    created_at: datetime
    revoked_at: datetime | None


# --- recorded classes -----------------------------------------------------------------------

class TrainingClass(SQLModel, table=True):
    __tablename__ = "training_class"
    __table_args__ = (UniqueConstraint("organisation_id", "class_ref"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    class_ref: str = Field(max_length=200)  # the manifest's class_id, the institution's own name for it
    policy: str = Field(max_length=100)
    manifest: dict[str, Any] = _json(nullable=False)
    created_at: datetime = _when()


class TrainingClassPublic(SQLModel):
    id: str
    organisation_id: str
    class_ref: str
    policy: str
    manifest: dict[str, Any]
    created_at: datetime


class RosterPhoto(SQLModel, table=True):
    __tablename__ = "roster_photo"
    __table_args__ = (UniqueConstraint("class_id", "trainee_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    trainee_id: str = Field(max_length=200)
    stored_name: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    created_at: datetime = _when()


class RecordingBase(SQLModel):
    original_name: str = Field(max_length=255)  # shown to people only; the file is named by `id`
    declared_start: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Recording(RecordingBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    stored_name: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size_bytes: int
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = Field(default=None, max_length=50)
    created_at: datetime = _when()


class RecordingPublic(RecordingBase):
    id: str
    class_id: str
    sha256: str
    size_bytes: int
    duration_s: float | None
    width: int | None
    height: int | None
    codec: str | None
    created_at: datetime


class Upload(SQLModel, table=True):
    """A resumable upload: bytes go to a part file named by `id`; only `finish` turns it into a
    Recording, so an interrupted upload never looks like a recording."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    original_name: str = Field(max_length=255)
    declared_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_bytes: int = 0
    recording_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()


class UploadPublic(SQLModel):
    id: str
    class_id: str
    original_name: str
    received_bytes: int
    recording_id: str | None


# --- jobs -------------------------------------------------------------------------------------

class Job(SQLModel, table=True):
    """Work for a worker. State lives here, not in the broker: a worker that dies leaves a lease
    that runs out, and any worker may then take the job again."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=30)  # analyze_class | judge_learners
    organisation_id: str | None = Field(default=None, foreign_key="organisation.id", index=True, max_length=32)
    subject_id: str | None = Field(default=None, max_length=32)  # the class of an analysis
    status: str = Field(default="queued", max_length=20, index=True)  # queued | running | done | failed
    stage: str = Field(default="", max_length=100)
    progress: float = 0.0
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    worker: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_after: datetime | None = Field(default=None, sa_type=UTCDateTime)  # not to be claimed before
    created_at: datetime = _when()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobPublic(SQLModel):
    id: str
    kind: str
    subject_id: str | None
    status: str
    stage: str
    progress: float
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ClassReportRecord(SQLModel, table=True):
    """One analysis of a class: the full report as the CLI prints it with --json."""

    __tablename__ = "class_report"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    job_id: str = Field(foreign_key="job.id", unique=True, max_length=32)  # one report per job: a re-run replaces nothing
    body: dict[str, Any] = _json(nullable=False)
    created_at: datetime = _when()


class HourResult(SQLModel, table=True):
    __tablename__ = "hour_result"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    report_id: str = Field(foreign_key="class_report.id", index=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    index: int
    kind: str = Field(max_length=20)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    verdict: str = Field(max_length=20)
    headcount_mean: float | None = None
    body: dict[str, Any] = _json(nullable=False)


# --- online learning --------------------------------------------------------------------------

class Course(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organisation_id", "course_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    course_ref: str = Field(max_length=200)
    body: dict[str, Any] = _json(nullable=False)
    updated_at: datetime = _when()


class Assessment(SQLModel, table=True):
    """A learner's earlier subsidised course and its assessment date (B8), as a platform reports it."""

    __table_args__ = (UniqueConstraint("organisation_id", "learner", "course"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    learner: str = Field(max_length=200, index=True)
    course: str = Field(max_length=200)
    assessed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """A learning event as accepted: the normalised event (native shape) in `body`."""

    __table_args__ = (UniqueConstraint("organisation_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    event_id: str = Field(max_length=200)
    learner: str = Field(max_length=200, index=True)
    session: str = Field(max_length=200)
    course: str = Field(max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=200)
    type: str = Field(max_length=30)
    at: datetime = Field(sa_type=UTCDateTime)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _when()


class LearnerPhoto(SQLModel, table=True):
    """A learner's enrolment photo (B4), as a platform gave it; the latest one counts."""

    __tablename__ = "learner_photo"

    learner: str = Field(primary_key=True, max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    stored_name: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    created_at: datetime = _when()


class Capture(SQLModel, table=True):
    """A face capture or kept photo a platform uploaded; events name it by `id` in `image`."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    sha256: str = Field(max_length=64)
    size_bytes: int
    created_at: datetime = _when()


class ChallengeRecord(SQLModel, table=True):
    """A face-check challenge handed out: when to capture, what to do, the nonce to carry back."""

    __tablename__ = "challenge"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    learner: str = Field(max_length=200)
    session: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    prompt: str = Field(max_length=30)
    nonce: str = Field(max_length=64, unique=True)
    created_at: datetime = _when()


class DirtyLearner(SQLModel, table=True):
    """Learners whose sessions must be judged again because events arrived.

    Ingest inserts a learner once and leaves an existing row alone (no hot-row updates between
    concurrent batches), unless a judging job has taken it (`job_id` set): then it hands it back
    (`job_id` NULL), so the events that came during judging are judged in the next round."""

    __tablename__ = "dirty_learner"

    learner: str = Field(primary_key=True, max_length=200)
    since: datetime = _when()
    job_id: str | None = Field(default=None, max_length=32, index=True)


class LearnerSession(SQLModel, table=True):
    __tablename__ = "learner_session"
    __table_args__ = (UniqueConstraint("learner", "platform", "session"),
                      Index("ix_learner_session_org_learner", "organisation_id", "learner"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    learner: str = Field(max_length=200)
    platform: str = Field(max_length=200)
    session: str = Field(max_length=200)
    course: str = Field(max_length=200)
    verdict: str = Field(max_length=20)
    credited_s: float
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    events: int
    findings: list[dict[str, Any]] = _json(nullable=False)
    updated_at: datetime = _when()


class LearnerSessionPublic(SQLModel):
    id: str
    learner: str
    platform: str
    session: str
    course: str
    verdict: str
    credited_s: float
    start: datetime
    end: datetime
    events: int
    findings: list[dict[str, Any]]
    updated_at: datetime


# --- review -----------------------------------------------------------------------------------

class Flag(SQLModel, table=True):
    """Something an inspector should look at: a class hour or a learner session that is not
    valid. One per subject; `cleared_at` is set when new evidence makes the subject valid again
    (the flag and its decisions stay)."""

    __table_args__ = (UniqueConstraint("subject_kind", "subject_key"),
                      Index("ix_flag_queue", "cleared_at", "raised_at"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subject_kind: str = Field(max_length=20)  # hour | session
    subject_key: str = Field(max_length=300)  # class id + hour index, or learner session id
    subject_id: str = Field(max_length=32)  # the hour_result or learner_session row shown
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    verdict: str = Field(max_length=20)
    rules: list[str] = _json(nullable=False)
    subject_start: datetime = Field(sa_type=UTCDateTime)
    raised_at: datetime = _when()
    updated_at: datetime = _when()
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FlagPublic(SQLModel):
    id: str
    subject_kind: str
    subject_id: str
    organisation_id: str
    verdict: str
    rules: list[str]
    subject_start: datetime
    raised_at: datetime
    updated_at: datetime
    cleared_at: datetime | None
    status: str = "open"


class DecisionBase(SQLModel):
    outcome: str = Field(max_length=20)  # confirmed | dismissed
    note: str = Field(default="", max_length=4000)


class Decision(DecisionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    flag_id: str = Field(foreign_key="flag.id", index=True, max_length=32)
    key_id: str = Field(foreign_key="api_key.id", max_length=32)
    person: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    created_at: datetime = _when()


class DecisionPublic(DecisionBase):
    id: int
    flag_id: str
    person: str
    organisation_id: str
    created_at: datetime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    key_id: str | None = Field(default=None, max_length=32)
    organisation_id: str | None = Field(default=None, max_length=32)
    person: str = Field(max_length=200)
    action: str = Field(max_length=100)
    target: str = Field(default="", max_length=300)
    detail: dict[str, Any] | None = _json()
