"""B8 cool-down (上一个培训项目未考核或考核结束不足一个月的，相关人员不得再次参加政府补贴培训, 003
§20(3); 004 §21(2): 考核后距下一次培训开班不足一个月): a person may not *start* another subsidised
training while an earlier one is unassessed, nor within one calendar month of its assessment.

Judged on the start of the training (the learner's first session of the course; every session of
it carries the finding, from that start), against the trainings that began before it. A training
that began later never counts, so a later course's assessment leaves an earlier verdict as it was
(the rule used to check every other course, and an earlier course became invalid once a later one
was assessed). When an earlier training's start is known neither from the history
(`started_at`) nor from its sessions here, it counts as earlier only when it was assessed before
this one started: an unassessed training of unknown start may be a later one.

The month is a calendar month in the assessment's own UTC offset: assessed 31 January, another
training may start from 28 February (29 in a leap year) at the same time of day, not after 30 days.
The service passes a person's learners as one learner, so this is judged on the person.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.track import Track


def add_months(at: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months later, the day clamped to the month's
    last (Jan 31 + 1 -> Feb 28, or 29 in a leap year)."""
    years, month0 = divmod(at.month - 1 + months, 12)
    year, month = at.year + years, month0 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def cooldown(track: Track, ctx: Context) -> list[Finding]:
    months = ctx.policy.cooldown_after_assessment_months
    began = ctx.starts.get((track.learner, track.course), track.start)
    began_s = began.timestamp()
    found = []
    for earlier in ctx.catalogue.history.get(track.learner, []):
        if earlier.course == track.course:
            continue
        earlier_start = earlier.started_at or ctx.starts.get((track.learner, earlier.course))
        if earlier_start is not None:
            if not earlier_start < began:
                continue  # began with or after this one: it cannot bar this one's start
        elif earlier.assessed_at is None or earlier.assessed_at > began:
            continue  # start unknown and not assessed before this one began: may be a later one
        evidence = {"earlier_course": earlier.course, "training_start": began.isoformat()}
        if earlier_start is not None:
            evidence["earlier_start"] = earlier_start.isoformat()
        if earlier.assessed_at is None or earlier.assessed_at > began:
            found.append(session_finding(
                track, "online.cooldown", began_s, began_s, events=[track.events[0].id],
                measured="not assessed", threshold=months,
                message="unassessed", args={"course": earlier.course}, evidence=evidence))
            continue
        allowed = add_months(earlier.assessed_at, months)
        if began < allowed:
            waited = (began - earlier.assessed_at).total_seconds() / 86400
            found.append(session_finding(
                track, "online.cooldown", began_s, began_s, events=[track.events[0].id],
                measured=round(waited, 2), threshold=months,
                message="too_soon", args={"days": waited, "course": earlier.course, "allowed_from": allowed.isoformat()},
                evidence={**evidence, "assessed_at": earlier.assessed_at.isoformat(), "allowed_from": allowed.isoformat()}))
    return found
