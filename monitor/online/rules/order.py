"""B5 unit order (专业课程学习不按内容先后顺序设置管理): a unit may be started only after the unit
before it in the course sequence is complete. The sequence is the catalogue's; without one, the
unit numbers say it: U3 comes after U2 (even if nobody was seen in U2), counting from 1, or
from 0 where a unit 0 exists; units without numbers follow the natural order of those seen."""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^(.*?)(\d+)$")

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
        before = unit_before(e.course, e.unit, ctx, seen_units)
        if before is not None and (e.course, before) not in completed:
            out[track.key].append(session_finding(
                track, "online.out_of_order", e.epoch_s, e.epoch_s, events=[e.id], measured=e.unit, threshold=before,
                detail=f"unit {e.unit} started before unit {before} was complete"))
    return out


def unit_before(course_id: str, unit: str, ctx: Context, seen_units: dict[str, set[str]]) -> str | None:
    course = ctx.catalogue.courses.get(course_id)
    if course and course.units:
        if unit not in course.units:
            return None
        position = course.units.index(unit)
        return course.units[position - 1] if position > 0 else None
    numbered = _NUMBERED.match(unit)
    seen = seen_units.get(course_id, set())
    if numbered:
        prefix, digits = numbered.groups()
        first = 0 if any((m := _NUMBERED.match(u)) and m.group(1) == prefix and int(m.group(2)) == 0 for u in seen) else 1
        n = int(digits)
        return f"{prefix}{n - 1:0{len(digits)}d}" if n > first else None
    ordered = sorted(seen, key=natural_key)
    position = ordered.index(unit) if unit in ordered else 0
    return ordered[position - 1] if position > 0 else None
