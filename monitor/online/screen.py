"""The rules' screen: which learners need the rules' full, event-by-event look, and the credited
time of every session, in a few array operations over a whole batch.

Most learners break no rule, and reading them event by event in Python is what cost the engine
most of its time. Each rule module holds, beside its exact form, a screen that asks the rule's
question column-wise (rules/columns.py), in a form that can only err on the side of suspicion:
whatever a rule would find, its screen flags (a seek is compared with the furthest point watched
in the same session, a lower bound of the learner's; a pop-up gap is flagged a microsecond early;
an hour boundary that falls on a span's edge is flagged). This module runs every screen of the
registry (rules/registry.py). A flagged learner goes through the rules themselves, which write
the findings; an unflagged one has none. Credited time is summed here for every session, with
the one definition of track.is_credited. tests/monitor/online/test_screen.py holds the two paths
to the same reports. The catalogue rules (course shape, cooldown) need no events and run for
every session (engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.online.rules.columns import EPS, Screening, SessionColumns, UnitBefore
from monitor.online.rules.registry import SCREENS
from monitor.online.table import EventTable

__all__ = ["EPS", "Screened", "Screening", "UnitBefore", "screen"]


@dataclass
class Screened:
    rows: np.ndarray  # row indices of the table, session by session, each in the rules' order
    first: np.ndarray  # per session: position in `rows` of its first event
    last: np.ndarray  # and of its last
    credited_s: np.ndarray  # per session (exact for every session: track.is_credited column-wise)
    flagged: np.ndarray  # per session: its learner needs the rules' full look


def screen(table: EventTable, q: Screening) -> Screened:
    s = SessionColumns(table)
    if s.n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Screened(empty, empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    credited_s = s.sum_per_session(np.where(s.credited, s.duration, 0.0))
    flagged = _mixed_course(s)
    for rule_screen in SCREENS:
        flagged |= rule_screen(s, q)
    flagged = np.isin(s.learner_of_session, s.learner_of_session[flagged])
    return Screened(s.order, s.first, s.last, credited_s, flagged)


def _mixed_course(s: SessionColumns) -> np.ndarray:
    """A session whose events name several courses: the rules decide (the screens read a
    session's course off its first row)."""
    return s.per_session(s.course != s.course[s.first][s.sid])
