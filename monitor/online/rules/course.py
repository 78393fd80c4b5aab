"""B7 course shape online: at most online_theory_share_max of a course's class hours online
(003 §21); occupations of 004 annex 3 also need offline practice hours."""

from __future__ import annotations

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.track import Track


def course_shape(track: Track, ctx: Context) -> list[Finding]:
    course = ctx.catalogue.courses.get(track.course)
    if course is None:
        return []
    p, found = ctx.policy, []
    limit = p.online_theory_share_max
    if limit is not None and course.total_hours and course.online_hours is not None:
        share = course.online_hours / course.total_hours
        if share > limit + 1e-9:
            found.append(session_finding(
                track, "online.theory_share", track.start_s, track.end_s, events=[], measured=round(share, 4),
                threshold=limit, detail=f"course {track.course}: {course.online_hours:g} of {course.total_hours:g} "
                                        f"class hours online ({share:.0%}), at most {limit:.0%}"))
    if course.needs_offline_practice and (course.offline_hours or 0) < p.offline_practice_min_hours:
        found.append(session_finding(
            track, "online.offline_practice", track.start_s, track.end_s, events=[],
            measured=course.offline_hours or 0, threshold=p.offline_practice_min_hours,
            detail=f"occupation {course.occupation or '?'} needs {p.offline_practice_min_hours:g} class hours "
                   f"of offline practice, the course has {course.offline_hours or 0:g}"))
    return found
