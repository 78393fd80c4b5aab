"""B5 unit order (专业课程学习不按内容先后顺序设置管理): a unit may be started only after the unit
before it in the course sequence is complete. The sequence is the catalogue's; without one, the
units seen in the course in natural order (U2 before U10)."""

from __future__ import annotations

import re

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.track import Track

_LEARNING = ("play", "heartbeat")


def natural_key(unit: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", unit)]


def out_of_order(tracks: list[Track], ctx: Context, seen_units: dict[str, set[str]]) -> dict[tuple[str, str], list[Finding]]:
    """`seen_units`: per course, every unit any learner was seen in (the fallback sequence)."""
    out: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
    events = sorted(((e, t) for t in tracks for e in t.events), key=lambda x: x[0].order_key)
    completed: set[tuple[str, str]] = set()
    started: set[tuple[str, str]] = set()
    for e, track in events:
        if e.unit is None:
            continue
        if e.type == "unit_complete":
            completed.add((e.course, e.unit))
            continue
        if e.type not in _LEARNING or (e.course, e.unit) in started:
            continue
        started.add((e.course, e.unit))
        course = ctx.catalogue.courses.get(e.course)
        sequence = course.units if course and course.units else sorted(seen_units.get(e.course, ()), key=natural_key)
        if e.unit not in sequence:
            continue
        position = sequence.index(e.unit)
        if position > 0 and (e.course, sequence[position - 1]) not in completed:
            before = sequence[position - 1]
            out[track.key].append(session_finding(
                track, "online.out_of_order", e.epoch_s, e.epoch_s, events=[e.id], measured=e.unit, threshold=before,
                detail=f"unit {e.unit} started before unit {before} was complete"))
    return out
