"""What the rules need beyond the events: the course catalogue (unit order, hours, occupation)
and each learner's (person's) other subsidised trainings, classroom classes too, with their
starts, assessment dates, occupations and levels, and a class's hours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import MonitorError, first_problem, read_user_file


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # "blended": an institution's course with its theory part online (003 §21: at most
    # online_theory_share_max of its hours online); "online": a platform's own online course (003
    # §20(4), 004 annex 3: no share cap; the profile's offline-practice minimum for its listed
    # occupations). Blended unless said otherwise, the stricter reading of a catalogue that is silent.
    mode: Literal["blended", "online"] = "blended"
    units: list[str] = Field(default_factory=list)  # in the order they must be learned
    total_hours: float | None = Field(default=None, gt=0)
    online_hours: float | None = Field(default=None, ge=0)
    occupation: str | None = None
    level: str | None = None  # the occupation's level (B9: never the same occupation and level twice)
    # the course says its occupation needs offline practice (besides the profile's list of them)
    needs_offline_practice: bool = False
    offline_hours: float | None = Field(default=None, ge=0)


class EarlierCourse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    course: str
    assessed_at: AwareDatetime | None = None  # None: not assessed (yet)
    # when the training began (a class's first hour, a course's first session), for B8: only a
    # training that began earlier bars another's start. None: from its sessions, if the engine has them
    started_at: AwareDatetime | None = None
    occupation: str | None = None  # B9: the same occupation at the same level again
    level: str | None = None
    # when the person was in it (a class's hours), for one person in two places at once
    spans: list[tuple[AwareDatetime, AwareDatetime]] = Field(default_factory=list)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    courses: dict[str, Course] = Field(default_factory=dict)
    history: dict[str, list[EarlierCourse]] = Field(default_factory=dict)  # learner -> earlier courses


def _load(path: Path, what: str) -> Any:
    text = read_user_file(path, what)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MonitorError(f"{what} {path} is not JSON: {exc}") from None


def load_catalogue(courses: Path | None, history: Path | None) -> Catalogue:
    """courses.json: {"COURSE": {...}} (or {"courses": {...}}); history.json: {"LEARNER": [...]}."""
    data: dict[str, Any] = {}
    if courses is not None:
        raw = _load(courses, "course catalogue")
        data["courses"] = raw.get("courses", raw) if isinstance(raw, dict) else raw
    if history is not None:
        raw = _load(history, "learner history")
        data["history"] = raw.get("history", raw) if isinstance(raw, dict) else raw
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise MonitorError(f"bad catalogue or history: {where}: {what}") from None
