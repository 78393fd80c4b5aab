"""The class manifest a user hands the CLI, and the class-shape check of POLICY A5.

A5 violations are refused when the class is read (a clear error naming the rule), because a class
that may not exist at all should not be analysed into a verdict that looks payable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import ClassShapeError, ManifestError, first_problem, read_user_file
from monitor.findings import RULES
from monitor.policy import Policy, clause_of, load_policy

DEFAULT_POLICY = "zhengzhou-2022"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassHour(_Strict):
    index: int = Field(ge=1)
    kind: Literal["theory", "practical"]
    start: AwareDatetime
    end: AwareDatetime
    # What the hour teaches (a unit of the training plan): a make-up lesson for a missed hour is a
    # later hour of the same content (003 §21 补课); without topics only the kind can be compared.
    topic: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ends_after_start(self) -> "ClassHour":
        if self.end <= self.start:
            raise ValueError(f"class hour {self.index} ends before it starts")
        return self

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


class RecordingRef(_Strict):
    path: str = Field(min_length=1)
    start: AwareDatetime | None = None


class Trainee(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    photo: str | None = None
    # The real-name ID number: links the trainee to the person's other trainings (the person rules).
    # The service keeps only its keyed hash and drops it from the stored manifest.
    person_id: str | None = Field(default=None, min_length=1, max_length=64)


class Teacher(_Strict):
    id: str = Field(min_length=1)
    name: str = ""


class ClassManifest(_Strict):
    class_id: str = Field(min_length=1)
    policy: str = DEFAULT_POLICY
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
    schedule: list[ClassHour] = Field(min_length=1)
    recordings: list[RecordingRef] = Field(default_factory=list)
    roster: list[Trainee] = Field(default_factory=list)
    teachers: list[Teacher] = Field(default_factory=list)
    certificate_only: bool = False
    # The occupation (职业/工种) and level trained, for B9 (never the same occupation at the same level
    # twice); without them only the yearly count is checked.
    occupation: str | None = Field(default=None, min_length=1, max_length=200)
    level: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_indices(self) -> "ClassManifest":
        indices = [h.index for h in self.schedule]
        if len(indices) != len(set(indices)):
            raise ValueError("schedule has repeated class hour indices")
        return self


class LoadedClass(BaseModel):
    """A manifest with its policy resolved and its file paths made absolute."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    manifest: ClassManifest
    policy: Policy
    base_dir: Path

    def recording_path(self, ref: RecordingRef) -> Path:
        return (self.base_dir / ref.path).resolve()


def _describe(exc: ValidationError) -> str:
    where, what = first_problem(exc)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'manifest'}: {what}{more}"


def parse_manifest(data: Any) -> ClassManifest:
    try:
        return ClassManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"bad class manifest: {_describe(exc)}") from None


def check_class_shape(manifest: ClassManifest, policy: Policy) -> None:
    """Raise ClassShapeError for the first A5 rule the class breaks, citing the clause of the
    judging profile's own document (a Sanmenxia class is refused under 004 §21(1), not 003's)."""

    def refuse(code: str, message: str) -> None:
        raise ClassShapeError(code, clause_of(policy, code) or RULES[code].clause, message)

    size = len(manifest.roster)
    if not manifest.teachers:
        # Missing evidence is refused, never a check switched off: with no teacher listed the
        # ratio of A5 cannot be checked.
        refuse("class.teacher_ratio", "no teachers listed: the class needs at least one teacher "
                                      f"per {policy.trainee_per_teacher_max} trainees")
    if size > policy.max_class_size:
        refuse("class.size", f"{size} trainees on the roster, at most {policy.max_class_size} allowed")
    if manifest.teachers and size / len(manifest.teachers) > policy.trainee_per_teacher_max:
        refuse("class.teacher_ratio",
               f"{size} trainees for {len(manifest.teachers)} teachers, "
               f"at most {policy.trainee_per_teacher_max} per teacher allowed")
    for hour in manifest.schedule:
        if hour.duration_s < policy.class_hour_min_s:
            refuse("class.hour_length",
                   f"class hour {hour.index} lasts {hour.duration_s / 60:g} min, "
                   f"at least {policy.class_hour_min_s / 60:g} min required")
    practical = sum(1 for h in manifest.schedule if h.kind == "practical")
    share = practical / len(manifest.schedule)
    if share < policy.practical_share_min:
        refuse("class.practical_share",
               f"{practical} of {len(manifest.schedule)} class hours are practical ({share:.0%}), "
               f"at least {policy.practical_share_min:.0%} required")
    if manifest.certificate_only and len(manifest.schedule) < policy.certificate_only_min_hours:
        refuse("class.certificate_hours",
               f"certificate-only course with {len(manifest.schedule)} class hours, "
               f"at least {policy.certificate_only_min_hours} required")


def load_class(path: Path) -> LoadedClass:
    """Read, validate and shape-check a manifest file; every failure is one clear ManifestError."""
    text = read_user_file(path, "class manifest", ManifestError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"class manifest {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    manifest = parse_manifest(data)
    policy = load_policy(manifest.policy, manifest.policy_overrides)
    check_class_shape(manifest, policy)
    loaded = LoadedClass(manifest=manifest, policy=policy, base_dir=path.resolve().parent)
    for ref in manifest.recordings:
        if not loaded.recording_path(ref).is_file():
            raise ManifestError(f"recording not found: {ref.path} (relative to {loaded.base_dir})")
    return loaded

