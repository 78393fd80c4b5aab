"""B5 unit order (专业课程学习不按内容先后顺序设置管理): a unit may be started only after the unit
before it in the course sequence is complete. The sequence is the catalogue's. Without one it is
known only where the units are plain numbers ("3" comes after "2", even if nobody was seen in
"2", counting from 1, or from 0 where a unit 0 exists); units named otherwise (activity IRIs,
file names) are not judged for order at all, and the report says so (`order_not_judged`): digits
inside a name are no sequence (`unit-03.mp4` does not come after `unit-03.mp3`, nor
`…/videos/3` after `…/videos/2` of another course's numbering)."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from monitor.findings import Finding
from monitor.online.catalogue import Catalogue
from monitor.online.rules import Context, session_finding
from monitor.online.rules.columns import (
    COMPLETE,
    HEARTBEAT,
    PLAY,
    Screening,
    SessionColumns,
)
from monitor.online.track import Track

_LEARNING = ("play", "heartbeat")


def is_plain_number(unit: str) -> bool:
    """A unit named by a number alone ("7", "07"): ASCII digits only (str.isdigit takes "²" and "३")."""
    return unit.isascii() and unit.isdigit()


def out_of_order(tracks: list[Track], ctx: Context) -> dict[tuple[str, str], list[Finding]]:
    """Over all of one learner's sessions in time order: a unit completed in one session opens
    the next unit in any later one."""
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
        before = unit_before(e.course, e.unit, ctx)
        if before is not None and (e.course, before) not in completed:
            out[track.key].append(session_finding(
                track, "online.out_of_order", e.epoch_s, e.epoch_s, events=[e.id], measured=e.unit, threshold=before,
                message="started", args={"unit": e.unit, "before": before}))
    return out


def unit_before(course_id: str, unit: str, ctx: Context) -> str | None:
    """The unit before `unit` in its course's sequence (None: first, or no sequence known)."""
    course = ctx.catalogue.courses.get(course_id)
    if course and course.units:
        if unit not in course.units:
            return None
        position = course.units.index(unit)
        return course.units[position - 1] if position > 0 else None
    if not is_plain_number(unit):
        return None  # no sequence known: not judged (order_not_judged says so)
    n = int(unit)
    seen = ctx.units.get(course_id, set())
    first = 0 if any(is_plain_number(u) and int(u) == 0 for u in seen) else 1
    if n <= first:
        return None
    same = [u for u in seen if is_plain_number(u) and int(u) == n - 1]
    return min(same) if same else f"{n - 1:0{len(unit)}d}"


def order_not_judged(catalogue: Catalogue, units_of: Mapping[str, Iterable[str]]) -> list[str]:
    """Why unit order (B5) was not judged for some courses: no catalogue sequence and units that
    are not plain numbers. One line per course, for the report."""
    notes = []
    for course in sorted(units_of):
        known = catalogue.courses.get(course)
        if known and known.units:
            continue
        named = sorted(u for u in units_of[course] if not is_plain_number(u))
        if named:
            shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
            notes.append(f"unit order (B5) not judged in course {course}: no catalogue gives its sequence and "
                         f"units {shown} are not plain numbers")
    return notes


# --- the screen: the same question asked column-wise of every learner, erring towards suspicion

def screen_out_of_order(s: SessionColumns, q: Screening) -> np.ndarray:
    """Per session: its learner first learned a unit before the one before it was complete."""
    return np.isin(s.learner_of_session, np.fromiter(_screen_order_learners(s, q), dtype=np.int64))


def _screen_order_learners(s: SessionColumns, q: Screening) -> set[int]:
    """B5: a unit first learned before the unit before it was first completed (ties included)."""
    has_unit = s.unit >= 0
    width = int(s.unit.max()) + 1

    def firsts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(learner, course, unit, time) of the earliest row in `mask` of each learner's unit of
        a course. Rows are in time order within a session: the first per session and unit
        first, then the earliest of those per learner."""
        rows = np.flatnonzero(mask & has_unit)
        if rows.size == 0:
            return rows, rows, rows, s.t[rows]
        _, first = np.unique(s.sid[rows] * width + s.unit[rows], return_index=True)
        rows = rows[first]
        learner, course, unit, t = s.learner_of_session[s.sid[rows]], s.course[s.first[s.sid[rows]]], s.unit[rows], s.t[rows]
        order = np.lexsort((t, unit, course, learner))
        learner, course, unit, t = learner[order], course[order], unit[order], t[order]
        keep = np.r_[True, (learner[1:] != learner[:-1]) | (course[1:] != course[:-1]) | (unit[1:] != unit[:-1])]
        return learner[keep], course[keep], unit[keep], t[keep]

    l_learner, l_course, l_unit, l_t = firsts(np.isin(s.kind, (PLAY, HEARTBEAT)))
    c_learner, c_course, c_unit, c_t = firsts(s.kind == COMPLETE)
    completed = {(a, b, c): t for a, b, c, t in zip(c_learner.tolist(), c_course.tolist(), c_unit.tolist(), c_t.tolist())}
    before_of: dict[tuple[int, int], int | None] = {}
    flagged: set[int] = set()
    for who, course, unit, t in zip(l_learner.tolist(), l_course.tolist(), l_unit.tolist(), l_t.tolist()):
        if (course, unit) not in before_of:
            name = q.unit_before(course, unit)
            before_of[(course, unit)] = None if name is None else q.unit_codes.get(name, -2)
        before = before_of[(course, unit)]
        if before is None:
            continue
        done = completed.get((who, course, before))
        if done is None or not done < t:
            flagged.add(who)
    return flagged
