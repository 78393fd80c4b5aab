"""B7 course shape by the course's mode. A *blended* course (an institution's, its theory part
online on a listed platform) may put at most online_theory_share_max of its class hours online
(003 §21). An *online* course (a platform's own, 003 §20(4), 004 annex 3) is not capped so; where
the profile sets an offline-practice minimum (Sanmenxia: 8 class hours, 004 §21(2) and annex 3),
the occupations it lists (offline_practice_occupations, annex 3 row 2) need that much offline
practice. Needs no events: runs on every session (catalogue rule, no screen)."""

from __future__ import annotations

from monitor.findings import Finding
from monitor.online.catalogue import Course
from monitor.online.rules import Context, session_finding
from monitor.online.track import Track
from monitor.policy import Policy


def needs_offline_practice(course: Course, policy: Policy) -> bool:
    """An online course of an occupation the profile lists (or that the catalogue says needs it),
    under a profile that sets a minimum at all."""
    if course.mode != "online" or policy.offline_practice_min_hours is None:
        return False
    return course.needs_offline_practice or (course.occupation or "").strip() in policy.offline_practice_occupations


def course_shape(track: Track, ctx: Context) -> list[Finding]:
    course = ctx.catalogue.courses.get(track.course)
    if course is None:
        return []
    p, found = ctx.policy, []
    limit = p.online_theory_share_max
    if course.mode == "blended" and limit is not None and course.total_hours and course.online_hours is not None:
        share = course.online_hours / course.total_hours
        if share > limit + 1e-9:
            found.append(session_finding(
                track, "online.theory_share", track.start_s, track.end_s, events=[], measured=round(share, 4),
                threshold=limit, message="share",
                args={"course": track.course, "online_hours": course.online_hours, "total_hours": course.total_hours,
                      "share": share, "limit": limit}))
    minimum = p.offline_practice_min_hours
    if minimum is not None and needs_offline_practice(course, p) and (course.offline_hours or 0) < minimum:
        found.append(session_finding(
            track, "online.offline_practice", track.start_s, track.end_s, events=[],
            measured=course.offline_hours or 0, threshold=minimum,
            message="short", args={"occupation": course.occupation or "?", "minimum": minimum,
                                   "hours": course.offline_hours or 0}))
    return found
