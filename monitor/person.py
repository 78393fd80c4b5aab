"""Person-level rules: one person's subsidised trainings, classroom classes and online courses
alike, judged against each other on the person id (the keyed hash of the real-name ID number that
links one person's trainees and learners).

- B8 cool-down (003 §20(3), 004 §21(2)): a training may not *start* while an earlier one of the
  same person is unassessed, nor within `cooldown_after_assessment_months` calendar months of its
  assessment (上一个培训项目未考核或考核结束不足一个月的，相关人员不得再次参加政府补贴培训).
- B9 yearly limit (002 §二(三)2): at most `subsidised_trainings_per_year_max` subsidised trainings
  a person a year, and never the same occupation at the same level twice
  (原则上每人每年可享受不超过3次，但同一职业同一等级不可重复享受).
- Two places: one person in a classroom class hour and learning online (or in two classrooms) at
  overlapping times; at least one of the two is not what it claims.

Each training is judged on its own start against the trainings that began *before* it, so a later
training never changes an earlier one's verdict (the cool-down used to check every other course,
and a finished earlier course became invalid once a later one was assessed). A training whose
start is not known counts as earlier only when it was assessed before this one began: an
unassessed training of unknown start may be a later one.

The rules return `Bar`s (what the finding says, where and why); the caller makes them findings
of its own shape (a learner session's, a class trainee's) with the judging profile's clauses.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.findings import Finding, Severity, finding
from monitor.policy import Policy


def add_months(at: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months later, the day clamped to the month's
    last (Jan 31 + 1 -> Feb 28, or 29 in a leap year)."""
    years, month0 = divmod(at.month - 1 + months, 12)
    year, month = at.year + years, month0 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Training:
    """One subsidised training of a person, as the person rules need it."""

    ref: str  # "class:<id>" for a classroom class, the (scoped) course for an online one
    started_at: datetime | None = None  # a class's first hour; a course's first session; None: not known
    assessed_at: datetime | None = None  # None: not assessed (yet)
    occupation: str | None = None
    level: str | None = None
    spans: tuple[Span, ...] = ()  # when the person was in it: class hours, online sessions


@dataclass(frozen=True)
class Bar:
    """What one person rule found against one training: the finding's content, without its shape."""

    rule: str
    message: str
    args: dict[str, Any]
    measured: float | str | None
    threshold: float | str | None
    evidence: dict[str, Any]
    start: datetime
    end: datetime


def _earlier(this_start: datetime, other: Training) -> bool:
    """Whether `other` began before a training that began at `this_start` (see the module doc)."""
    if other.started_at is not None:
        return other.started_at < this_start
    return other.assessed_at is not None and other.assessed_at <= this_start


def cooldown(this: Training, began: datetime, others: Iterable[Training], months: int) -> list[Bar]:
    """B8 on the start of `this` (which began at `began`)."""
    out = []
    for other in others:
        if other.ref == this.ref or not _earlier(began, other):
            continue
        evidence: dict[str, Any] = {"earlier_training": other.ref, "training_start": began.isoformat()}
        if other.started_at is not None:
            evidence["earlier_start"] = other.started_at.isoformat()
        if other.assessed_at is None or other.assessed_at > began:
            out.append(Bar("person.cooldown", "unassessed", {"course": other.ref}, "not assessed", months,
                           evidence, began, began))
            continue
        allowed = add_months(other.assessed_at, months)
        if began < allowed:
            waited = (began - other.assessed_at).total_seconds() / 86400
            out.append(Bar("person.cooldown", "too_soon",
                           {"days": waited, "course": other.ref, "allowed_from": allowed.isoformat()},
                           round(waited, 2), months,
                           {**evidence, "assessed_at": other.assessed_at.isoformat(), "allowed_from": allowed.isoformat()},
                           began, began))
    return out


def subsidy_limit(this: Training, began: datetime, others: Iterable[Training], per_year_max: int | None) -> list[Bar]:
    """B9 on the start of `this`: the trainings that began before it in the same calendar year (in
    the offset of its start; one of unknown start by its assessment's year), and any earlier one
    of the same occupation at the same level. Without an occupation and a level on both, the
    repeat cannot be told and only the count is checked."""
    earlier = [o for o in others if o.ref != this.ref and _earlier(began, o)]
    out = []
    if per_year_max is not None:
        same_year = sorted(o.ref for o in earlier
                           if ((o.started_at or o.assessed_at) or began).astimezone(began.tzinfo).year == began.year)
        if len(same_year) >= per_year_max:
            out.append(Bar("person.subsidy_limit", "per_year",
                           {"n": len(same_year) + 1, "year": began.year, "limit": per_year_max},
                           len(same_year) + 1, per_year_max, {"earlier_trainings": same_year}, began, began))
    if this.occupation and this.level:
        again = sorted(o.ref for o in earlier if o.occupation == this.occupation and o.level == this.level)
        if again:
            out.append(Bar("person.subsidy_limit", "same_occupation",
                           {"occupation": this.occupation, "level": this.level, "course": again[0]},
                           this.occupation, "once", {"earlier_trainings": again}, began, began))
    return out


def two_places(this: Training, others: Iterable[Training], tolerance_s: float) -> list[Bar]:
    """Each span of `this` that overlaps a span of another training of the person by more than
    `tolerance_s` (a class hour's schedule is the plan, not the minute a trainee sat down)."""
    out = []
    for other in others:
        if other.ref == this.ref:
            continue
        for a0, a1 in this.spans:
            for b0, b1 in other.spans:
                start, end = max(a0, b0), min(a1, b1)
                overlap = (end - start).total_seconds()
                if overlap > tolerance_s:
                    out.append(Bar("person.two_places", "overlap",
                                   {"course": other.ref, "minutes": overlap / 60, "other_start": b0.isoformat()},
                                   round(overlap, 1), tolerance_s,
                                   {"other_training": other.ref, "other_start": b0.isoformat(), "other_end": b1.isoformat()},
                                   start, end))
    return out


def bars(this: Training, others: Iterable[Training], policy: Policy, began: datetime | None = None) -> list[Bar]:
    """Every person rule on `this`, under the profile that judges it (its own jurisdiction's, on
    its start's day)."""
    others = list(others)
    when = began or this.started_at
    out: list[Bar] = []
    if when is not None:
        out += cooldown(this, when, others, policy.cooldown_after_assessment_months)
        out += subsidy_limit(this, when, others, policy.subsidised_trainings_per_year_max)
    out += two_places(this, others, policy.two_places_overlap_tolerance_s)
    return out


def as_finding(bar: Bar, clauses: Mapping[str, str], severity: Severity | None = None, **evidence: Any) -> Finding:
    return finding(bar.rule, clauses=clauses, severity=severity, start=bar.start, end=bar.end, measured=bar.measured,
                   threshold=bar.threshold, message=bar.message, args=bar.args, evidence={**bar.evidence, **evidence})


@dataclass
class TraineeVerdict:
    """A class trainee's person findings and whether the trainee counts for the subsidy."""

    trainee: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def subsidisable(self) -> bool:
        return not any(f.severity is Severity.INVALIDATES for f in self.findings)


def judge_trainee(trainee: str, this: Training, others: Iterable[Training], policy: Policy) -> TraineeVerdict:
    """The person rules on one trainee of a class. The cool-down and the yearly limit bar the
    trainee's subsidy (invalidating); two places at once is for review on the class's side, where
    the footage may show the trainee in the room (the online session gets it invalidating)."""
    found = []
    for bar in bars(this, others, policy):
        severity = Severity.REVIEW if bar.rule == "person.two_places" else None
        found.append(as_finding(bar, policy.clauses, severity, trainee=trainee))
    return TraineeVerdict(trainee, found)
