"""What a learner's earlier sessions hand on to later ones, so that a judging round can read only
the sessions that got events and those after them (issue #20).

The learner rules look across sessions: fast-forward carries the furthest point watched of each
unit from one session to the sessions that start after it (B1), unit order the units started and
completed before (B5), multi-window the sessions' playing stretches (B2), and cool-down the start
of each course's training (B8). A round judges the sessions from a *cut*: an instant no session
spans (each one ended before it or began at or after it). The sessions before the cut end before
any session after it begins, so they overlap none of them (B2 needs nothing from them) and all
their events come first; what they hand on is then a summary, `Carried`, bounded by the units
and courses the learner ever took, not by their history:

- `furthest`: per (course, unit), the furthest point watched (fast_forward's own state);
- `started`, `completed`: the (course, unit) pairs learned in and completed (out_of_order's);
- `starts`: per course, the start of its first session (the engine's `Context.starts`).

The engine is handed the summary as stand-in tracks placed before every judged session (`prior`):
one per course, starting when the course's training began, holding a pause at each furthest
point, a heartbeat (at position 0) in each unit started and a completion of each unit completed; it is given to
the learner rules and never judged or reported itself. What the stand-ins mean to the rules is
what the summarised sessions meant: the incremental rounds are held to the from-scratch verdicts
by tests/api/test_incremental_judging.py (any split of a stream into batches, in any order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.online.events import LearningEvent
from monitor.online.rules.fast_forward import _POSITIONED
from monitor.online.rules.order import _LEARNING
from monitor.online.track import Track

PRIOR_PLATFORM = "~prior"  # the stand-in tracks' platform: no platform's id has this form


@dataclass
class Carried:
    furthest: dict[tuple[str, str | None], float] = field(default_factory=dict)
    started: set[tuple[str, str]] = field(default_factory=set)
    completed: set[tuple[str, str]] = field(default_factory=set)
    starts: dict[str, datetime] = field(default_factory=dict)

    def add(self, other: "Carried") -> "Carried":
        for key, value in other.furthest.items():
            self.furthest[key] = max(self.furthest.get(key, 0.0), value)
        self.started |= other.started
        self.completed |= other.completed
        for course, at in other.starts.items():
            if course not in self.starts or at < self.starts[course]:
                self.starts[course] = at
        return self

    def to_json(self) -> dict[str, Any]:
        return {"furthest": sorted([c, u, p] for (c, u), p in self.furthest.items()) if self.furthest else [],
                "started": sorted(list(k) for k in self.started), "completed": sorted(list(k) for k in self.completed),
                "starts": {c: at.isoformat() for c, at in sorted(self.starts.items())}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Carried":
        return cls({(c, u): float(p) for c, u, p in data.get("furthest", [])},
                   {(c, u) for c, u in data.get("started", [])}, {(c, u) for c, u in data.get("completed", [])},
                   {c: datetime.fromisoformat(at) for c, at in data.get("starts", {}).items()})


def contribution(track: Track) -> Carried:
    """What one session hands on, read as the rules read it: positions per (the session's course,
    the unit carried from the last event naming one); units learned in and completed per the
    event's own course and unit; the session's course began no later than its first event."""
    out = Carried(starts={track.course: track.start})
    unit: str | None = None
    for e in track.events:
        unit = e.unit or unit
        if e.type in _POSITIONED and e.position_s is not None:
            key = (track.course, unit)
            out.furthest[key] = max(out.furthest.get(key, 0.0), e.position_s)
        if e.unit is None:
            continue
        if e.type == "unit_complete":
            out.completed.add((e.course, e.unit))
        elif e.type in _LEARNING:
            out.started.add((e.course, e.unit))
    return out


def prior(learner: str, carried: Carried) -> list[Track]:
    """The stand-in tracks of a summary (see the module's docstring), one per course, in the order
    the rules would meet them. Units of a course that began nowhere here (a session's events
    naming another course) go with the first stand-in: the rules read their own course off them."""
    courses = sorted(carried.starts, key=lambda c: (carried.starts[c], c))
    if not courses:
        return []
    tracks = []
    for n, course in enumerate(courses):
        at = carried.starts[course]
        events: list[LearningEvent] = []

        def add(kind: str, course_of: str, unit: str | None, position: float | None = None) -> None:
            events.append(LearningEvent(f"{PRIOR_PLATFORM}:{n}:{len(events)}", kind, at, learner, f"{PRIOR_PLATFORM}:{course}",
                                        PRIOR_PLATFORM, course_of, unit, position_s=position))

        # The position without a unit first: each later stand-in event names its unit.
        for (c, unit), position in sorted(carried.furthest.items(), key=lambda kv: (kv[0][1] is not None, kv[0][0], kv[0][1] or "")):
            if c == course:
                add("pause", course, unit, position)
        for c, unit in sorted(carried.started):
            if c == course or (n == 0 and c not in carried.starts):
                add("heartbeat", c, unit, 0.0)  # at 0: no further than any point already watched
        for c, unit in sorted(carried.completed):
            if c == course or (n == 0 and c not in carried.starts):
                add("unit_complete", c, unit)
        if not events:
            add("session_start", course, None)
        tracks.append(Track(learner, f"{PRIOR_PLATFORM}:{course}", PRIOR_PLATFORM, course, events))
    return tracks


def latest_cut(sessions: list[tuple[float, float]], floor: float) -> float:
    """The latest instant, at or after `floor`, that none of the sessions ((start, end), all
    starting at or after `floor`) spans: the start of the last session that begins after every
    session before it ended."""
    cut = floor
    latest_end = float("-inf")
    for start, end in sorted(sessions):
        if start > latest_end:
            cut = max(cut, start)
        latest_end = max(latest_end, end)
    return cut
