"""B8 cooldown (上一个培训项目未考核或考核结束不足一个月的…不得再次参加政府补贴培训): a learner may not
start another subsidised course before the previous one is assessed, nor within
cooldown_after_assessment_days after its assessment."""

from __future__ import annotations

from datetime import timedelta

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.track import Track


def cooldown(track: Track, ctx: Context) -> list[Finding]:
    days = ctx.policy.cooldown_after_assessment_days
    found = []
    for earlier in ctx.catalogue.history.get(track.learner, []):
        if earlier.course == track.course:
            continue
        if earlier.assessed_at is None:
            found.append(session_finding(
                track, "online.cooldown", track.start_s, track.start_s, events=[track.events[0].id],
                measured="not assessed", threshold=days,
                detail=f"course {earlier.course} has not been assessed yet", evidence={"earlier_course": earlier.course}))
            continue
        waited = track.start - earlier.assessed_at
        if waited < timedelta(days=days):
            found.append(session_finding(
                track, "online.cooldown", track.start_s, track.start_s, events=[track.events[0].id],
                measured=round(waited.total_seconds() / 86400, 2), threshold=days,
                detail=f"started {waited.total_seconds() / 86400:.1f} days after the assessment of {earlier.course}",
                evidence={"earlier_course": earlier.course, "assessed_at": earlier.assessed_at.isoformat()}))
    return found
