"""The report of one class: what the CLI prints with --json and what the server stores."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from monitor.findings import Finding, Verdict
from monitor.footage.visibility import Visibility


class FileReport(BaseModel):
    path: str
    status: str  # "analysed" or "unreadable"
    reason: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    start_source: str | None = None  # "declared" (manifest) or "container" (creation_time)
    duration_s: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    sampling: str | None = None  # "keyframes" or "interval"
    samples: int | None = None
    clock: str | None = None  # the on-screen clock: read at how many samples, or why it was not


class Run(BaseModel):
    start: datetime
    end: datetime
    duration_s: float


class HourReport(BaseModel):
    index: int
    kind: str
    start: datetime
    end: datetime
    verdict: Verdict
    longest_continuous_s: float
    coverage: float
    runs: list[Run]
    findings: list[Finding]
    visibility: Visibility | None = None  # when the roster has enrolment photos


class ClassReport(BaseModel):
    class_id: str
    policy: str
    policy_overrides: dict
    hours: list[HourReport]
    findings: list[Finding]  # class-level: files, and events outside every class hour
    files: list[FileReport]
