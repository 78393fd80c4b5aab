"""The person rules (monitor/person.py: B8 cool-down, B9 yearly limit, two places at once) on an
online course's sessions. The service passes a person's learners as one learner and the person's
classroom classes in the history (with their class hours as spans), so one person is judged over
every platform and classroom.

Judged on the start of the training (the learner's first session of the course; every session of
it carries the finding, from that start) against the trainings that began before it, so a later
course's assessment leaves an earlier verdict as it was. Every rule counts the history's
trainings only: a course seen only in events has no assessment to judge it by, and the screen
clears learners without a history before any catalogue rule runs (so the two paths agree). Two
places compares this session with the history's spans (two online sessions at once are B2's
multi-window).
"""

from __future__ import annotations

from monitor import person
from monitor.findings import Finding
from monitor.online.rules import Context, instant, session_finding
from monitor.online.track import Track


def person_rules(track: Track, ctx: Context) -> list[Finding]:
    p = ctx.policy
    began = ctx.starts.get((track.learner, track.course), track.start)
    course = ctx.catalogue.courses.get(track.course)
    this = person.Training(ref=track.course, started_at=began, occupation=course.occupation if course else None,
                           level=course.level if course else None,
                           spans=((instant(track, track.start_s), instant(track, track.end_s)),))
    history = [person.Training(ref=e.course, started_at=e.started_at or ctx.starts.get((track.learner, e.course)),
                               assessed_at=e.assessed_at, occupation=e.occupation, level=e.level,
                               spans=tuple((a, b) for a, b in e.spans))
               for e in ctx.catalogue.history.get(track.learner, []) if e.course != track.course]
    bars = (person.cooldown(this, began, history, p.cooldown_after_assessment_months)
            + person.subsidy_limit(this, began, history, p.subsidised_trainings_per_year_max)
            + person.two_places(this, history, p.two_places_overlap_tolerance_s))
    return [session_finding(track, bar.rule, bar.start.timestamp(), bar.end.timestamp(), events=[track.events[0].id],
                            measured=bar.measured, threshold=bar.threshold, message=bar.message, args=bar.args,
                            evidence=bar.evidence)
            for bar in bars]
