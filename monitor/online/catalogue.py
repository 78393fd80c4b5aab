"""What the rules need beyond the events: the course catalogue (unit order, hours, occupation)
and each learner's earlier subsidised courses with their assessment dates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import MonitorError


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[str] = Field(default_factory=list)  # in the order they must be learned
    total_hours: float | None = Field(default=None, gt=0)
    online_hours: float | None = Field(default=None, ge=0)
    occupation: str | None = None
    needs_offline_practice: bool = False  # the occupation is listed in 004 annex 3
    offline_hours: float | None = Field(default=None, ge=0)


class EarlierCourse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    course: str
    assessed_at: AwareDatetime | None = None  # None: not assessed (yet)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    courses: dict[str, Course] = Field(default_factory=dict)
    history: dict[str, list[EarlierCourse]] = Field(default_factory=dict)  # learner -> earlier courses


def _load(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MonitorError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MonitorError(f"cannot read {what} {path}: {exc}") from None


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
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MonitorError(f"bad catalogue or history: {where}: {first['msg']}") from None
