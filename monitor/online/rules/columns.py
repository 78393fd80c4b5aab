"""A batch's events as the screens read them: sorted into sessions, each row with the state of
its session after it (what the span it opens is in).

The screens (each rule module's `screen_*`) ask their rule's question of these columns for every
learner at once; monitor/online/screen.py runs them all and sends the flagged learners to the
rules' exact forms. Kept apart from screen.py so that the rule modules can read it without a
circular import (screen.py imports the registry, which imports the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from monitor.online.table import KIND, EventTable
from monitor.online.track import is_credited
from monitor.policy import Policy

EPS = 1e-6  # seconds: how close to a threshold a screen treats as "could go either way"
PLAY, PAUSE, END = KIND["play"], KIND["pause"], KIND["session_end"]
SEEK, HEARTBEAT, COMPLETE = KIND["seek"], KIND["heartbeat"], KIND["unit_complete"]
SHOWN, ANSWERED, TIMEOUT = KIND["popup_shown"], KIND["popup_answered"], KIND["popup_timeout"]
HIDDEN, VISIBLE, PHOTO = KIND["hidden"], KIND["visible"], KIND["photo_kept"]
RATECHANGE = KIND["ratechange"]

# (course code, unit code) -> the name of the unit before it in the course's sequence (None: it
# is the first), for the unit-order rule
UnitBefore = Callable[[int, int], "str | None"]


@dataclass(frozen=True)
class Screening:
    """What a screen may use besides the columns."""

    policy: Policy
    unit_before: UnitBefore
    unit_codes: Mapping[str | None, int]


class SessionColumns:
    """The sorted columns and, per row, the state of its session after it (what the span it
    opens is in): playing, rate, window visible, blocked by a failed pop-up, and so whether the
    span is credited (track.is_credited, the one definition of credited time)."""

    def __init__(self, table: EventTable) -> None:
        order = table.session_order()
        self.order = order
        self.t = table.epoch[order]
        self.kind = table.kind[order]
        self.unit = table.unit[order]
        self.course = table.course[order]
        self.popup = table.popup[order]
        self.position = table.position[order]
        self.rate = table.rate[order]
        self.from_s = table.from_s[order]
        self.to_s = table.to_s[order]
        learner, platform, session = table.learner[order], table.platform[order], table.session[order]
        n = len(order)
        self.n = n
        new = np.ones(n, dtype=bool)
        new[1:] = (learner[1:] != learner[:-1]) | (platform[1:] != platform[:-1]) | (session[1:] != session[:-1])
        self.new = new
        self.sid = np.cumsum(new) - 1
        self.first = np.flatnonzero(new)
        self.last = np.r_[self.first[1:], n] - 1
        self.count = len(self.first)
        self.learner_of_session = learner[self.first]
        opener = np.ones(n, dtype=bool)
        opener[self.last] = False  # a session's last event opens no span
        self.opener = opener
        self.duration = np.zeros(n)
        self.duration[:-1] = self.t[1:] - self.t[:-1]
        self.duration[~opener] = 0.0
        kind = self.kind
        self.playing = self.carried(np.isin(kind, (PLAY, PAUSE, END)), kind == PLAY, False)
        self.visible = self.carried(np.isin(kind, (HIDDEN, VISIBLE)), kind == VISIBLE, True)
        self.rate_now = self.carried(((kind == PLAY) & ~np.isnan(self.rate)) | (kind == RATECHANGE), self.rate, 1.0)
        self.failing = self._failing_popup_rows()
        width = int(self.popup.max(initial=-1)) + 2
        failed_keys = self._popup_key(width)[self.failing]
        clearing = (kind == ANSWERED) & ~np.isin(self._popup_key(width), failed_keys)
        self.blocked = self.carried(self.failing | clearing, self.failing, False)
        # per row: does the span it opens count as learning time? (exact for every session)
        self.credited = self.opener & is_credited(self.playing, self.rate_now, self.visible, self.blocked)

    def _popup_key(self, width: int) -> np.ndarray:
        return self.sid * width + self.popup + 1

    def _failing_popup_rows(self) -> np.ndarray:
        """The rows at which a pop-up fails (track.failed_popups, column-wise): the first timeout
        of each pop-up of a session, else its first showing when it is never answered."""
        kind, width = self.kind, int(self.popup.max(initial=-1)) + 2
        key = self._popup_key(width)
        out = np.zeros(self.n, dtype=bool)

        def firsts(k: int) -> tuple[np.ndarray, np.ndarray]:
            rows = np.flatnonzero(kind == k)
            keys, first = np.unique(key[rows], return_index=True)
            return rows[first], keys

        timeout_rows, timed_out = firsts(TIMEOUT)
        shown_rows, shown = firsts(SHOWN)
        answered = key[kind == ANSWERED]
        out[timeout_rows] = True
        out[shown_rows[~np.isin(shown, answered) & ~np.isin(shown, timed_out)]] = True
        return out

    def carried(self, sets: np.ndarray, value: np.ndarray, initial: object) -> np.ndarray:
        """Each row's state after it: the value of the last row at or before it (in its session)
        that sets it, else `initial`."""
        src = np.where(sets | self.new, np.arange(self.n), 0)
        np.maximum.accumulate(src, out=src)
        values = np.where(sets, value, initial)
        return values[src]

    def per_session(self, row_mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.sid[row_mask], minlength=self.count) > 0

    def sum_per_session(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.sid, weights=weights, minlength=self.count)
