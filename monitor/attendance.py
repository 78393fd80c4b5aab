"""Attendance and headcount per class period (POLICY A3, A4): who was there, and how many the
subsidy is paid for.

- 开班人数以实到培训人数为准 (003 §21): the opening number is those actually present at the opening,
  here the trainees identified at the first day's check moments (or an inspector's count that day,
  if higher: footage can miss a face, an inspector's count is evidence too).
- 培训人数以实地检查在位平均人数为准 (003 §21): the trained number is the mean present over every
  check: the footage's check moments and the inspectors' on-site counts.
- 实地检查少于开班人员的按检查在位平均人数作为本次培训数 (004 三(二)): the subsidisable headcount is the
  lower of the two, with the series it comes from.
- An absent trainee lowers the headcount and is listed (`visibility.trainee_absent`, review); it
  voids nothing: 003 §19 refuses footage that *cannot show* the people attending, not a class
  with someone missing. An absence with the institution's written leave, accepted by an inspector,
  and made up in a later class hour of the same content counts as attended (003 §21 经…同意后，可在
  结业考核前通过补课等方式完成规定课程，计入培训到课率).
- Faces matching nobody on the roster at more than `unknown_person_min_share` of an hour's check
  moments: `visibility.unknown_person` (review: a stand-in?).
- An inspector's on-site count during a class hour that exceeds the faces the footage shows at the
  nearest check moment by more than `onsite_unseen_max`: people in the room the camera cannot show
  (its view does not cover the room, or their faces are turned away): `visibility.unverifiable`
  (003 §19 对录像无法显示全体参训人员: invalidating where the profile requires every trainee visible).
  Without an on-site count the footage alone cannot tell someone out of view from someone absent.

Pure: the inputs are the class report's hours (their check moments), the inspectors' on-site
checks and the recorded absences; the service and the CLI hand them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from statistics import fmean
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.findings import Finding, Severity, finding
from monitor.policy import Policy


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CheckMoment(_Frozen):
    at: datetime
    present: list[str]  # trainee ids identified
    unknown: int = 0  # faces matching nobody on the roster
    unidentifiable: int = 0  # faces found but too small, blurred or turned away to tell who they are

    @property
    def faces(self) -> int:
        """Every person the footage shows at the moment, whether it could tell who or not."""
        return len(set(self.present)) + self.unknown + self.unidentifiable


class HourChecks(_Frozen):
    index: int
    start: datetime
    end: datetime
    moments: list[CheckMoment] = Field(default_factory=list)


class OnsiteCount(_Frozen):
    """An inspector's on-site check: how many were present, who was seen absent."""

    at: datetime
    present: int = Field(ge=0)
    absent: list[str] = Field(default_factory=list)
    person: str = ""


class Absence(_Frozen):
    trainee: str
    hour: int  # the class hour missed
    makeup_hour: int | None = None  # the later class hour of the same content that makes it up (counted only if later)
    accepted: bool = False  # an inspector accepted the written leave


class TraineeAttendance(_Frozen):
    trainee: str
    moments_checked: int
    moments_seen: int
    rate: float | None  # moments seen / moments checked
    hours_checked: int  # class hours with check moments
    hours_absent: list[int]  # seen at fewer than min_sightings_per_hour of the hour's moments
    hours_made_up: list[int]  # absent, with an accepted leave, made up in a later hour
    onsite_absent: int  # on-site checks that named the trainee absent
    attendance_rate: float | None  # (hours attended + hours made up) / hours checked


class SeriesPoint(_Frozen):
    at: datetime
    present: int
    source: Literal["footage", "onsite"]


class Headcount(_Frozen):
    roster: int
    opening: int | None  # present at the opening: the first day's checks
    mean_present: float | None  # over every check: footage moments and on-site counts
    subsidisable: float | None  # the lower of the two
    series: list[SeriesPoint]


class Period(_Frozen):
    trainees: list[TraineeAttendance]
    headcount: Headcount
    findings: list[Finding]


def _trainee(trainee: str, hours: list[HourChecks], onsite: list[OnsiteCount], absences: list[Absence],
             policy: Policy, assessed_at: datetime | None = None) -> TraineeAttendance:
    checked = [h for h in hours if h.moments]
    seen_in = {h.index: sum(trainee in m.present for m in h.moments) for h in checked}
    absent = sorted(i for i, n in seen_in.items() if n < policy.min_sightings_per_hour)
    attended = {i for i in seen_in if i not in absent}
    starts, ends = {h.index: h.start for h in hours}, {h.index: h.end for h in hours}
    # A make-up lesson comes after the hour it makes up and before the final assessment (003 §21
    # 经…同意后，可在结业考核前通过补课等方式完成规定课程): an earlier hour attended is the trainee's own
    # attendance, not a make-up of what was missed later; one after the assessment comes too late.
    made_up = sorted(a.hour for a in absences
                     if a.trainee == trainee and a.accepted and a.hour in absent and a.makeup_hour is not None
                     and a.makeup_hour in attended and starts[a.makeup_hour] > starts[a.hour]
                     and (assessed_at is None or ends[a.makeup_hour] <= assessed_at))
    moments = sum(len(h.moments) for h in checked)
    seen = sum(seen_in.values())
    return TraineeAttendance(
        trainee=trainee, moments_checked=moments, moments_seen=seen, rate=round(seen / moments, 4) if moments else None,
        hours_checked=len(checked), hours_absent=absent, hours_made_up=made_up,
        onsite_absent=sum(trainee in c.absent for c in onsite),
        attendance_rate=round((len(attended) + len(made_up)) / len(checked), 4) if checked else None)


def _headcount(roster: list[str], hours: list[HourChecks], onsite: list[OnsiteCount]) -> Headcount:
    series = sorted([SeriesPoint(at=m.at, present=len(set(m.present)), source="footage") for h in hours for m in h.moments]
                    + [SeriesPoint(at=c.at, present=c.present, source="onsite") for c in onsite], key=lambda p: p.at)
    first = min((h.start for h in hours), default=None)
    opening: int | None = None
    if first is not None:
        day = first.date()
        on_first = [m for h in hours for m in h.moments if m.at.astimezone(first.tzinfo).date() == day]
        counted = [c.present for c in onsite if c.at.astimezone(first.tzinfo).date() == day]
        if on_first or counted:
            opening = max([len({t for m in on_first for t in m.present})] + counted)
    mean = round(fmean(p.present for p in series), 3) if series else None
    subsidisable = None if mean is None else (mean if opening is None else min(float(opening), mean))
    return Headcount(roster=len(roster), opening=opening, mean_present=mean, subsidisable=subsidisable, series=series)


def class_period(roster: Iterable[str], hours: Iterable[HourChecks], onsite: Iterable[OnsiteCount],
                 absences: Iterable[Absence], policy: Policy, names: dict[str, str] | None = None,
                 assessed_at: datetime | None = None) -> Period:
    """The class period; `assessed_at` is its final assessment (None: not yet), before which a
    make-up lesson must have been held to count."""
    roster, hours, onsite, absences = list(roster), sorted(hours, key=lambda h: h.start), list(onsite), list(absences)
    names = names or {}
    trainees = [_trainee(t, hours, onsite, absences, policy, assessed_at) for t in roster]
    found: list[Finding] = []
    if hours:
        start, end = hours[0].start, max(h.end for h in hours)
        for a in trainees:
            missed = [i for i in a.hours_absent if i not in a.hours_made_up]
            if missed:
                found.append(finding(
                    "visibility.trainee_absent", clauses=policy.clauses, start=start, end=end, measured=len(missed),
                    threshold=a.hours_checked, message="absent",
                    args={"trainee": a.trainee, "name": names.get(a.trainee, ""), "hours": ", ".join(map(str, missed)),
                          "checked": a.hours_checked},
                    evidence={"trainee": a.trainee, "hours": missed, "made_up": a.hours_made_up}))
    for h in hours:
        with_unknown = [m for m in h.moments if m.unknown > 0]
        if h.moments and len(with_unknown) / len(h.moments) > policy.unknown_person_min_share:
            found.append(finding(
                "visibility.unknown_person", clauses=policy.clauses, start=h.start, end=h.end,
                measured=round(len(with_unknown) / len(h.moments), 4), threshold=policy.unknown_person_min_share,
                message="unknown", args={"hour": h.index, "n": len(with_unknown), "moments": len(h.moments)},
                evidence={"hour": h.index, "moments": [m.at.isoformat() for m in with_unknown]}))
    found += [f for h in hours if (f := _out_of_view(h, onsite, policy)) is not None]
    return Period(trainees=trainees, headcount=_headcount(roster, hours, onsite), findings=found)


def _out_of_view(hour: HourChecks, onsite: list[OnsiteCount], policy: Policy) -> Finding | None:
    """The on-site count of the hour the footage falls furthest short of, at the check moment
    nearest it (within check_interval_s: no moment that near, no valid footage to compare), when
    more than onsite_unseen_max people counted in the room are not in the picture."""
    worst: tuple[int, OnsiteCount, CheckMoment] | None = None
    for count in onsite:
        if not hour.start <= count.at <= hour.end or not hour.moments:
            continue
        moment = min(hour.moments, key=lambda m: abs((m.at - count.at).total_seconds()))
        if abs((moment.at - count.at).total_seconds()) > policy.check_interval_s:
            continue
        unseen = count.present - moment.faces
        if unseen > policy.onsite_unseen_max and (worst is None or unseen > worst[0]):
            worst = (unseen, count, moment)
    if worst is None:
        return None
    unseen, count, moment = worst
    return finding(
        "visibility.unverifiable", clauses=policy.clauses, start=hour.start, end=hour.end, measured=unseen,
        threshold=policy.onsite_unseen_max, severity=Severity.INVALIDATES if policy.all_trainees_visible else Severity.REVIEW,
        message="not_in_view",
        args={"hour": hour.index, "at": f"{count.at.astimezone(hour.start.tzinfo):%H:%M}", "counted": count.present,
              "faces": moment.faces, "person": count.person or "?"},
        evidence={"hour": hour.index, "onsite_at": count.at.isoformat(), "counted": count.present, "inspector": count.person,
                  "moment": moment.at.isoformat(), "faces": moment.faces, "present": moment.present})


def hours_of_report(report: dict) -> list[HourChecks]:
    """The check moments of a class report's hours (`monitor analyze --json`; hours without
    visibility have none)."""
    out = []
    for h in report.get("hours", []):
        moments = (h.get("visibility") or {}).get("moments", [])
        out.append(HourChecks(index=h["index"], start=h["start"], end=h["end"],
                              moments=[CheckMoment(at=m["at"], present=m["present"], unknown=m.get("unknown", 0),
                                                   unidentifiable=m.get("unidentifiable", 0)) for m in moments]))
    return out
