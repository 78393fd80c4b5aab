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
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


def _when(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSON, **kw))


# --- organisations and keys -----------------------------------------------------------------

class OrgKind(StrEnum):
    INSTITUTION = "institution"
    PLATFORM = "platform"
    INSPECTORATE = "inspectorate"
    ADMIN = "admin"


class Role(StrEnum):
    INSTITUTION = "institution"
    PLATFORM = "platform"
    INSPECTOR = "inspector"
    ADMIN = "admin"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(StrEnum):
    ANALYZE_CLASS = "analyze_class"
    ANALYZE_CLASS_LATEST_PHOTOS = "analyze_class_latest"  # an inspector's: against the newest roster photos
    JUDGE_LEARNERS = "judge_learners"
    RETENTION = "retention"  # face images past their retention period deleted (issue #20)


class SubjectKind(StrEnum):
    HOUR = "hour"
    SESSION = "session"
    TRAINEE = "trainee"  # a class trainee's person rules (cool-down, yearly limit, two places)
    JUDGING = "judging"  # a learner whose judging failed: an item for an inspector, not a verdict


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


ORGANISATION_KINDS = tuple(k.value for k in OrgKind)
ROLE_OF_KIND = {OrgKind.INSTITUTION: Role.INSTITUTION, OrgKind.PLATFORM: Role.PLATFORM,
                OrgKind.INSPECTORATE: Role.INSPECTOR, OrgKind.ADMIN: Role.ADMIN}


class OrganisationBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, unique=True)
    kind: str = Field(max_length=20)
    # The city whose rules judge this organisation's training (set by an admin, never by the
    # organisation); an inspectorate may override numbers for its own jurisdiction only.
    jurisdiction: str | None = Field(default=None, max_length=50)


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
    # After this instant the key is refused like a revoked one (None: no expiry; issue #19).
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(SQLModel):
    id: str
    organisation_id: str
    role: str
    person: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None


class PolicyOverride(SQLModel, table=True):
    """A number the authority set: for a whole jurisdiction from a day on, or for one class.
    Append-only: a later override of the same parameter wins; every verdict embeds the ones it
    was judged by, with their author and reason."""

    __tablename__ = "policy_override"

    id: int | None = Field(default=None, primary_key=True)
    jurisdiction: str = Field(max_length=50, index=True)
    class_id: str | None = Field(default=None, foreign_key="training_class.id", index=True, max_length=32)
    parameters: dict[str, Any] = _json(nullable=False)
    in_force_from: date | None = None  # None: from the start (a class override always applies to its class)
    reason: str = Field(max_length=2000)
    key_id: str = Field(foreign_key="api_key.id", max_length=32)
    person: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    created_at: datetime = _when()


class PolicyOverridePublic(SQLModel):
    id: int
    jurisdiction: str
    class_id: str | None
    parameters: dict[str, Any]
    in_force_from: date | None
    reason: str
    person: str
    organisation_id: str
    created_at: datetime


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
    """A trainee's enrolment photo. Never overwritten: a replacement is the next version, and a
    report names the versions it used (a photo swapped after the fact cannot rewrite a verdict)."""

    __tablename__ = "roster_photo"
    __table_args__ = (UniqueConstraint("class_id", "trainee_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    trainee_id: str = Field(max_length=200)
    version: int = 1
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
    size_bytes: int = Field(sa_type=BigInteger)  # up to max_upload_bytes (8 GiB): past 32 bits
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
    received_bytes: int = Field(default=0, sa_type=BigInteger)
    # The whole file's size as the client declared it when it opened the upload (#18: the
    # institution's page shows a percent); unknown when not declared.
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    recording_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when()
    # One writer at a time (issue #19): a chunk takes the upload by a compare-and-set on
    # (received_bytes, writer) and renews `writer_at` while it streams; `finish` sets `closed_at`
    # (only when no live writer holds it), after which no chunk can take it again.
    writer: str | None = Field(default=None, max_length=32)
    writer_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UploadPublic(SQLModel):
    id: str
    class_id: str
    original_name: str
    received_bytes: int
    size_bytes: int | None = None
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


class ClassTrainee(SQLModel, table=True):
    """A class trainee's person: the keyed hash of the real-name ID number the roster gave (the
    number itself is kept nowhere), linking the trainee to the person's other classes and to their
    learners on every platform for the person rules (cool-down, yearly limit, two places)."""

    __tablename__ = "class_trainee"

    class_id: str = Field(foreign_key="training_class.id", primary_key=True, max_length=32)
    trainee_id: str = Field(primary_key=True, max_length=200)
    person_hash: str = Field(max_length=64, index=True)


class TraineeResult(SQLModel, table=True):
    """A class trainee's person findings as last judged (when the class is analysed, and when the
    person's online sessions are judged): what an inspector's flag of kind `trainee` shows. One
    row per trainee, judged again in place: the person rules look at the person's other trainings,
    which change after the class's own analysis (an online session during a class hour)."""

    __tablename__ = "trainee_result"
    __table_args__ = (UniqueConstraint("class_id", "trainee_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    trainee_id: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    verdict: str = Field(max_length=20)  # valid | review | invalid (the trainee does not count for the subsidy)
    start: datetime = Field(sa_type=UTCDateTime)  # the class's first hour: the training's start
    findings: list[dict[str, Any]] = _json(nullable=False)
    policy: str = Field(max_length=100)  # the profile that judged
    judged_at: datetime = _when()


class ClassAssessment(SQLModel, table=True):
    """When a class was assessed (结业考核), as its institution reports it: set once, audited. The
    cool-down of its trainees' next trainings runs from it; without it the class is unassessed."""

    __tablename__ = "class_assessment"

    class_id: str = Field(foreign_key="training_class.id", primary_key=True, max_length=32)
    assessed_at: datetime = Field(sa_type=UTCDateTime)
    key_id: str = Field(max_length=32)
    person: str = Field(max_length=200)
    created_at: datetime = _when()


class LateRegistration(SQLModel, table=True):
    """An authority's acceptance of a class registered after its first class hour began
    (class.registered_late, 000 (十八), 004 annex 2: the opening application comes first): for one
    institution's class id, with who accepted it and why. Append-only."""

    __tablename__ = "late_registration"
    __table_args__ = (UniqueConstraint("organisation_id", "class_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)  # the institution
    class_ref: str = Field(max_length=200)
    reason: str = Field(max_length=2000)
    key_id: str = Field(max_length=32)
    person: str = Field(max_length=200)
    authority_id: str = Field(max_length=32)  # the accepting organisation (admin or inspectorate)
    created_at: datetime = _when()


class OnsiteCheck(SQLModel, table=True):
    """An inspector's on-site check of a class (004 annex 2 开班当日检查情况、培训期间检查情况、检查人员签字):
    when, who, how many were present, who was seen absent, a note. Append-only: a correction is a
    new check. Feeds the class period's mean present (003 §21 实地检查在位平均人数)."""

    __tablename__ = "onsite_check"

    id: int | None = Field(default=None, primary_key=True)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    present: int
    absent: list[str] = _json(nullable=False)  # trainee ids seen absent
    note: str = Field(default="", max_length=2000)
    key_id: str = Field(max_length=32)
    person: str = Field(max_length=200)  # the inspector who signs it
    organisation_id: str = Field(max_length=32)  # the inspectorate
    created_at: datetime = _when()


class TraineeAbsence(SQLModel, table=True):
    """A trainee's absence from a class hour with the institution's written leave, and the later
    class hour of the same content that makes it up (003 §21: 经…同意后，可在结业考核前通过补课等方式
    完成规定课程，计入培训到课率). It counts towards attendance only once an inspector has accepted it."""

    __tablename__ = "trainee_absence"

    id: int | None = Field(default=None, primary_key=True)
    class_id: str = Field(foreign_key="training_class.id", index=True, max_length=32)
    trainee_id: str = Field(max_length=200)
    hour_index: int
    makeup_hour_index: int | None = None
    reason: str = Field(max_length=2000)
    key_id: str = Field(max_length=32)
    person: str = Field(max_length=200)
    created_at: datetime = _when()
    accepted_by: str | None = Field(default=None, max_length=200)  # the inspector
    accepted_key_id: str | None = Field(default=None, max_length=32)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OnsiteCheckPublic(SQLModel):
    id: int
    class_id: str
    at: datetime
    present: int
    absent: list[str]
    note: str
    person: str
    organisation_id: str
    created_at: datetime


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


class Learner(SQLModel, table=True):
    """A learner as one platform enrolled them: the platform's own id, scoped to the platform
    (another platform using the same id has its own learner). `person_hash` links one person's
    learners across platforms: HMAC-SHA256 of the real-name ID number under a server secret,
    never the number itself, never returned by any route."""

    __table_args__ = (UniqueConstraint("organisation_id", "learner_ref"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    learner_ref: str = Field(max_length=200)
    person_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = _when()

    @property
    def subject(self) -> str:
        """What is judged together: every learner of one person, else this learner alone."""
        return f"p:{self.person_hash}" if self.person_hash else f"l:{self.id}"


class Event(SQLModel, table=True):
    """A learning event as accepted: the normalised event (native shape) in `body`."""

    __table_args__ = (UniqueConstraint("organisation_id", "event_id"),
                      Index("ix_event_learner_session", "learner_id", "session"))

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    event_id: str = Field(max_length=200)
    learner: str = Field(max_length=200, index=True)  # the platform's own learner id (learner_ref)
    # (found by ix_event_learner_session, whose first column it is)
    learner_id: str | None = Field(default=None, foreign_key="learner.id", max_length=32)
    session: str = Field(max_length=200)
    course: str = Field(max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=200)
    type: str = Field(max_length=30)
    at: datetime = Field(sa_type=UTCDateTime)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _when()


class LearnerPhoto(SQLModel, table=True):
    """A learner's enrolment photo (B4), as its platform gave it. Never overwritten: a
    replacement is the next version; a session is judged against the version it was first
    judged with, and against a newer one only when an inspector asks."""

    __tablename__ = "learner_photo_version"
    __table_args__ = (UniqueConstraint("learner_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    learner_id: str = Field(foreign_key="learner.id", index=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    version: int = 1
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


class ImageFace(SQLModel, table=True):
    """The faces found in one stored image (a capture, an enrolment photo version), found once and
    kept: a judging round never detects again (issue #20). `image` is the file's path under the
    storage root. Past the retention period the file is deleted and the encodings dropped
    (`deleted_at`); the perceptual hashes stay, in face_hash, so replays are still found."""

    __tablename__ = "image_face"

    image: str = Field(primary_key=True, max_length=200)
    faces: list[dict[str, Any]] = _json(nullable=False)  # [{box, encoding, hash, px}], tallest first
    found_at: datetime = _when()
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FaceHash(SQLModel, table=True):
    """The replay index (issue #20): one row per capture event (its first frame) and per
    enrolment photo version, with the perceptual hash of its face cut into four 16-bit blocks,
    each an indexed column (multi-index hashing: two hashes within d bits agree within d // 4
    bits on at least one block, so a lookup probes the blocks' neighbourhoods and verifies the
    candidates' Hamming distance). A capture's row is made at ingest with its faces still to be
    found (`face_px` NULL); the judging job finds them before it judges. `face_px` / `second_px`:
    the heights of the two tallest faces (a capture is usable, and in the index, when exactly one
    face is tall enough for the profile judging it)."""

    __tablename__ = "face_hash"
    # One index a block, holding what a lookup verifies (the hash) and filters on: the candidates
    # are read from the index alone, not row by row from the table (measured: 6x faster at 1 M rows).
    __table_args__ = (UniqueConstraint("kind", "ref"),
                      *(Index(f"ix_face_hash_probe_b{i}", f"b{i}", "hash", "at_s", "kind", "id") for i in range(4)))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # capture | photo
    ref: str = Field(max_length=300)  # capture: "<platform id>:<event id>" (the engine's id); photo: its id
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    learner_id: str = Field(foreign_key="learner.id", index=True, max_length=32)
    session: str | None = Field(default=None, max_length=300)  # "<learner id>:<session>" for a capture
    image: str = Field(max_length=200)  # path under the storage root
    source: str = Field(max_length=300)  # what a replay of it names
    at_s: float | None = None  # a capture event's instant (epoch s) and type rank: its place in time
    rank: int | None = None
    nonce: str | None = Field(default=None, max_length=200, index=True)
    face_px: int | None = Field(default=None, index=True)  # None: faces not looked for yet
    second_px: int | None = None
    hash: int | None = Field(default=None, sa_type=BigInteger)  # signed 64-bit
    b0: int | None = None
    b1: int | None = None
    b2: int | None = None
    b3: int | None = None
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
    """Subjects (`Learner.subject`: a person, or a learner without a person id) whose sessions
    must be judged again because events arrived.

    Ingest inserts a learner once and leaves an existing row alone (no hot-row updates between
    concurrent batches), unless a judging job has taken it (`job_id` set): then it hands it back
    (`job_id` NULL), so the events that came during judging are judged in the next round."""

    __tablename__ = "dirty_learner"

    learner: str = Field(primary_key=True, max_length=200)
    since: datetime = _when()
    job_id: str | None = Field(default=None, max_length=32, index=True)
    # Judged again from all its events (a course, a person link, a voided event...): what changed
    # is not only sessions that got events (issue #20: then only those and what follows are read).
    full: bool = True


class DirtySession(SQLModel, table=True):
    """A learner's session that got events since it was last judged (issue #20): a judging round
    reads these sessions and the ones after them, not the learner's whole history. Marked and
    handed back like DirtyLearner."""

    __tablename__ = "dirty_session"

    learner_id: str = Field(primary_key=True, max_length=32)
    session: str = Field(primary_key=True, max_length=200)
    job_id: str | None = Field(default=None, max_length=32, index=True)


class CourseUnit(SQLModel, table=True):
    """Every unit a platform's course was seen with (the fallback unit order of B5), kept as events
    come instead of read from all of the course's events at each judging round."""

    __tablename__ = "course_unit"

    organisation_id: str = Field(primary_key=True, max_length=32)
    course: str = Field(primary_key=True, max_length=200)
    unit: str = Field(primary_key=True, max_length=200)


class SessionState(SQLModel, table=True):
    """What one judged session hands on to the subject's later sessions (issue #20;
    monitor/online/carry.py): its first and last instants (where a round may cut the subject's
    history) and its contribution (furthest point watched per unit, units started and completed,
    when its course began)."""

    __tablename__ = "session_state"
    __table_args__ = (Index("ix_session_state_subject_end", "subject", "end_s"),
                      Index("ix_session_state_subject_start", "subject", "start_s"))

    learner_id: str = Field(primary_key=True, max_length=32)
    session: str = Field(primary_key=True, max_length=200)  # the platform's own session id
    subject: str = Field(max_length=200)
    platform: str = Field(max_length=32)
    start_s: float
    end_s: float
    contribution: dict[str, Any] = _json(nullable=False)


class SubjectState(SQLModel, table=True):
    """A subject's summary (issue #20): everything its sessions that began before `cut_s` hand on
    (no session spans `cut_s`), so a round that judges sessions from `cut_s` on reads this row
    instead of those sessions' events; and the units its courses were judged with (a new one
    changes the fallback unit order: the next round is judged from scratch)."""

    __tablename__ = "subject_state"

    subject: str = Field(primary_key=True, max_length=200)
    cut_s: float
    carried: dict[str, Any] = _json(nullable=False)
    units: dict[str, Any] = _json(nullable=False)
    updated_at: datetime = _when()


class LearnerSession(SQLModel, table=True):
    __tablename__ = "learner_session"
    __table_args__ = (UniqueConstraint("learner_id", "session"),
                      Index("ix_learner_session_org_learner", "organisation_id", "learner"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    learner_id: str | None = Field(default=None, foreign_key="learner.id", index=True, max_length=32)
    learner: str = Field(max_length=200)  # the platform's own id
    platform: str = Field(max_length=200)  # the platform's name, for people
    session: str = Field(max_length=200)
    course: str = Field(max_length=200)
    verdict: str = Field(max_length=20)
    credited_s: float
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    events: int
    findings: list[dict[str, Any]] = _json(nullable=False)
    # The values it was judged by: jurisdiction, profile and its version, overrides with their
    # authors, whether face checks ran, the enrolment photo version compared with.
    judged_by: dict[str, Any] | None = _json()
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
    judged_by: dict[str, Any] | None = None
    updated_at: datetime


class JudgingFailure(SQLModel, table=True):
    """A subject whose judging failed: kept visible for inspectors with the reason, and tried
    again with back-off, instead of failing the batch it came in (the others are judged)."""

    __tablename__ = "judging_failure"

    subject: str = Field(primary_key=True, max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = 1
    retry_after: datetime = Field(sa_type=UTCDateTime)
    first_failed_at: datetime = _when()
    updated_at: datetime = _when()


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
    outcome: str = Field(max_length=20)  # confirmed | dismissed | withdrawn (an undo, naming the one it withdraws)
    note: str = Field(default="", max_length=4000)
    # Issue #18: a decision is on one finding (its rule and start, stable when the subject is judged
    # again) or, when empty, on the whole flag; a reason code from a short list; an undo appends a
    # `withdrawn` decision naming the one it takes back (nothing is edited).
    finding: str | None = Field(default=None, max_length=200)
    reason: str = Field(default="", max_length=40)
    withdraws: int | None = Field(default=None)


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


class PageSession(SQLModel, table=True):
    """A signed-in person's pages session, kept on the server (issue #19): the cookie holds only
    the session's id, so sign-out, the key's revocation or an idle timeout end it for good (a
    cookie kept from before is then worth nothing). Only the id's sha256 is stored."""

    __tablename__ = "page_session"

    id_sha256: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(foreign_key="api_key.id", index=True, max_length=32)
    csrf: str = Field(max_length=64)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
