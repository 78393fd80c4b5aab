"""The rules' screen: which learners need the rules' full, event-by-event look, and the credited
time of every session of the others, in a few array operations over a whole batch.

Most learners break no rule, and reading them event by event in Python is what cost the engine
most of its time. The screen asks each rule's question column-wise, in a form that can only err
on the side of suspicion: whatever a rule would find, the screen flags (a seek is compared with
the furthest point watched in the same session, a lower bound of the learner's; a pop-up gap is
flagged a microsecond early; an hour boundary that falls on a span's edge is flagged). A flagged
learner goes through the rules themselves (rules/), which write the findings; an unflagged one
has none, and its credited time is read here. tests/test_online_screen.py holds the two paths
to the same reports. The catalogue rules (course shape, cooldown) need no events and run for
every session (engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from monitor.online.table import KIND, EventTable
from monitor.policy import Policy

EPS = 1e-6  # seconds: how close to a threshold the screen treats as "could go either way"
_PLAY, _PAUSE, _END = KIND["play"], KIND["pause"], KIND["session_end"]
_SEEK, _HEARTBEAT, _COMPLETE = KIND["seek"], KIND["heartbeat"], KIND["unit_complete"]
_SHOWN, _ANSWERED, _TIMEOUT = KIND["popup_shown"], KIND["popup_answered"], KIND["popup_timeout"]
_HIDDEN, _VISIBLE, _PHOTO = KIND["hidden"], KIND["visible"], KIND["photo_kept"]

# (course code, unit code) -> the name of the unit before it in the course's sequence (None: it
# is the first), for the unit-order rule
UnitBefore = Callable[[int, int], "str | None"]


@dataclass
class Screened:
    rows: np.ndarray  # row indices of the table, session by session, each in the rules' order
    first: np.ndarray  # per session: position in `rows` of its first event
    last: np.ndarray  # and of its last
    credited_s: np.ndarray  # per session (exact for the sessions of unflagged learners)
    flagged: np.ndarray  # per session: its learner needs the rules' full look


class _Sessions:
    """The sorted columns and, per row, the state of its session after it (what the span it
    opens is in)."""

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
        self.playing = self.carried(np.isin(kind, (_PLAY, _PAUSE, _END)), kind == _PLAY, False)
        self.visible = self.carried(np.isin(kind, (_HIDDEN, _VISIBLE)), kind == _VISIBLE, True)

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


def screen(table: EventTable, policy: Policy, unit_before: UnitBefore,
           unit_codes: Mapping[str | None, int]) -> Screened:
    s = _Sessions(table)
    if s.n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Screened(empty, empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    credited = s.opener & s.playing & s.visible  # exact where no rate > 1 and no failed pop-up
    credited_s = s.sum_per_session(np.where(credited, s.duration, 0.0))
    flagged = (
        _mixed_course(s)
        | s.per_session(s.rate > 1.0)
        | _failed_popups(s)
        | _popup_gaps(s, policy)
        | _hidden_playing(s, policy)
        | _ahead_of_watched(s, policy)
        | _class_hours_photos(s, credited, policy)
    )
    learners = _overlapping_learners(s, policy) | _out_of_order_learners(s, unit_before, unit_codes)
    flagged_learners = np.union1d(s.learner_of_session[flagged], np.fromiter(learners, dtype=np.int64))
    flagged = np.isin(s.learner_of_session, flagged_learners)
    return Screened(s.order, s.first, s.last, credited_s, flagged)


def _mixed_course(s: _Sessions) -> np.ndarray:
    """A session whose events name several courses: the rules decide."""
    return s.per_session(s.course != s.course[s.first][s.sid])


def _failed_popups(s: _Sessions) -> np.ndarray:
    """B3: a pop-up timed out, or was shown and never answered in the session."""
    width = int(s.popup.max()) + 2

    def pairs(kind: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(s.kind == kind)
        return rows, s.sid[rows] * width + s.popup[rows] + 1

    shown_rows, shown = pairs(_SHOWN)
    _, answered = pairs(_ANSWERED)
    unanswered = shown_rows[~np.isin(shown, answered)]
    out = s.per_session(s.kind == _TIMEOUT)
    out[s.sid[unanswered]] = True
    return out


def _popup_gaps(s: _Sessions, policy: Policy) -> np.ndarray:
    """B3: learning time between pop-ups (spans opened by a pop-up start a new count)."""
    shown_opens = (s.kind == _SHOWN) & s.opener
    run = np.cumsum(s.new | shown_opens) - 1
    learned = np.bincount(run, weights=np.where(s.playing & s.opener, s.duration, 0.0))
    long_runs = np.flatnonzero(learned > policy.popup_max_gap_s - EPS)
    out = np.zeros(s.count, dtype=bool)
    if long_runs.size:
        run_start = np.flatnonzero(s.new | shown_opens)
        out[s.sid[run_start[long_runs]]] = True
    return out


def _hidden_playing(s: _Sessions, policy: Policy) -> np.ndarray:
    """B2: playing with the window hidden; the total, which any single stretch cannot exceed."""
    hidden = s.opener & s.playing & ~s.visible
    return s.sum_per_session(np.where(hidden, s.duration, 0.0)) > policy.unfocused_max_s - EPS


def _ahead_of_watched(s: _Sessions, policy: Policy) -> np.ndarray:
    """B1: a seek or a play past the furthest point watched (here: in this session, which is
    never further than the learner's), or a position running ahead of the clock since the last
    report (rates above 1 are flagged on their own, so the clock's rate is 1)."""
    kind, n = s.kind, s.n
    reported = np.isin(kind, (_PLAY, _HEARTBEAT, _PAUSE, _COMPLETE)) & ~np.isnan(s.position)
    reference = reported | (kind == _SEEK)
    value = np.where(kind == _SEEK, s.to_s, s.position)
    # position against the clock since the last reference of the session
    src = np.where(reference, np.arange(n), -1)
    np.maximum.accumulate(src, out=src)
    previous = np.r_[-1, src[:-1]]
    has_previous = previous >= s.first[s.sid]
    checked = reported & (kind != _PLAY) & has_previous
    prev = np.where(has_previous, previous, 0)
    allowed = (s.t - s.t[prev]) * (1 + policy.position_speed_tolerance) + policy.position_tolerance_s
    out = s.per_session(checked & (s.position - value[prev] > allowed - 1e-3))
    furthest = _watched_before(s, reported)
    limit = furthest + policy.position_tolerance_s - 1e-3
    seek_ahead = (kind == _SEEK) & (s.to_s > np.maximum(s.from_s - 1e-3, limit))
    play_ahead = (kind == _PLAY) & (s.position > limit)
    return out | s.per_session(seek_ahead | play_ahead)


def _watched_before(s: _Sessions, reported: np.ndarray) -> np.ndarray:
    """Per row, a lower bound of the furthest point the learner had watched of the row's unit of
    the course before it: the rows before it in its session, and the whole of the learner's
    sessions of the course that started strictly earlier (the rule reads sessions in the order
    they started)."""
    n = s.n
    unit = s.carried(s.unit >= 0, s.unit, -1)
    by_unit = np.lexsort((np.arange(n), unit, s.sid))  # rows by session, unit, then order
    key = s.sid[by_unit] * (int(unit.max()) + 2) + unit[by_unit] + 1
    starts = np.r_[True, key[1:] != key[:-1]]
    segment = np.cumsum(starts) - 1
    watched = np.where(reported[by_unit], s.position[by_unit], -1.0)
    big = float(watched.max()) + 2.0
    # within the session
    lifted = watched + segment * big
    np.maximum.accumulate(lifted, out=lifted)
    before = np.r_[-1.0, lifted[:-1]] - segment * big
    before[starts] = -1.0
    # from the learner's earlier sessions of the same course and unit
    first_rows = by_unit[starts]
    seg_sid = s.sid[first_rows]
    seg_max = np.maximum.reduceat(watched, np.flatnonzero(starts))
    learner, course = s.learner_of_session[seg_sid], s.course[s.first[seg_sid]]
    seg_unit, began = unit[first_rows], s.t[s.first[seg_sid]]
    order = np.lexsort((began, seg_unit, course, learner))
    learner, course, seg_unit, began, best = learner[order], course[order], seg_unit[order], began[order], seg_max[order]
    same_group = np.r_[False, (learner[1:] == learner[:-1]) & (course[1:] == course[:-1]) & (seg_unit[1:] == seg_unit[:-1])]
    group = np.cumsum(~same_group) - 1
    lifted = best + group * big
    np.maximum.accumulate(lifted, out=lifted)
    earlier = np.r_[-1.0, lifted[:-1]] - group * big
    earlier[~same_group] = -1.0
    tie = same_group & np.r_[False, began[1:] == began[:-1]]
    run_head = np.maximum.accumulate(np.where(tie, 0, np.arange(tie.size)))
    earlier = earlier[run_head]  # sessions that started at the same moment do not count
    carried = np.empty(order.size)
    carried[order] = earlier
    furthest = np.empty(n)
    furthest[by_unit] = np.maximum(np.maximum(before, carried[segment]), 0.0)
    return furthest


def _class_hours_photos(s: _Sessions, credited: np.ndarray, policy: Policy) -> np.ndarray:
    """B6: every class hour of credited learning keeps a photo, at offsets that are not all the
    same. The hours are cut where credited time reaches each multiple of the class hour (see
    rules/photos.py); an hour boundary or a photo within EPS of an edge is flagged."""
    hour = policy.online_class_hour_s
    out = np.zeros(s.count, dtype=bool)
    spans = np.flatnonzero(credited & (s.duration > 0))
    if spans.size == 0:
        return out
    span_sid, span_len = s.sid[spans], s.duration[spans]
    total = np.bincount(span_sid, weights=span_len, minlength=s.count)
    run_total = np.cumsum(span_len)
    base = np.r_[0.0, run_total][np.searchsorted(span_sid, np.arange(s.count))]
    after = run_total - base[span_sid]  # credited time of the session at each span's end
    before = after - span_len
    full = np.floor((total + 1e-9) / hour)
    rest = total - full * hour
    out |= (total > 0) & ((np.abs(rest) < EPS) | (np.abs(rest - hour / 2) < EPS))
    extra = (rest >= EPS) & ((full == 0) | (rest >= hour / 2))
    stretched = (rest >= EPS) & (full >= 1) & (rest < hour / 2)  # the short rest joins the last hour
    hours = (full + extra).astype(np.int64)
    hour_sid = np.repeat(np.arange(s.count), hours)
    if hour_sid.size == 0:
        return out
    nth = np.arange(hour_sid.size) - np.repeat(np.cumsum(hours) - hours, hours)
    # credited time as one increasing key over all sessions: session, then time within it
    width = float(total.max()) + 2 * hour + 1.0
    key = span_sid * width + after
    start_c, end_c = nth * hour, (nth + 1) * hour
    # the span in which each boundary falls; a boundary on a span's edge is flagged
    for boundary in (start_c, end_c):
        out[hour_sid[_near(key, hour_sid * width + boundary)]] = True
    a_span = np.minimum(np.searchsorted(key, hour_sid * width + start_c, side="right"), spans.size - 1)
    b_span = np.minimum(np.searchsorted(key, hour_sid * width + end_c, side="left"), spans.size - 1)
    a = s.t[spans[a_span]] + np.maximum(start_c - before[a_span], 0.0)
    b = s.t[spans[b_span]] + (end_c - before[b_span])
    last_hour = nth == hours[hour_sid] - 1
    open_end = last_hour & (extra | stretched)[hour_sid]
    b = np.where(open_end, s.t[s.last[hour_sid]], b)
    # photos: one increasing key, session then time since its first event
    photos = np.flatnonzero(s.kind == _PHOTO)
    if photos.size == 0:
        out[hour_sid] = True
        return out
    t0 = s.t[s.first]
    reach = float((s.t[s.last] - t0).max()) + 1.0
    photo_key = s.sid[photos] * reach + (s.t[photos] - t0[s.sid[photos]])

    def first_photo_from(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.searchsorted(photo_key, hour_sid * reach + (at - t0[hour_sid]), side="left")
        found = i < photos.size
        i = np.minimum(i, photos.size - 1)
        found &= s.sid[photos[i]] == hour_sid
        return found, s.t[photos[i]]

    found, taken = first_photo_from(a - EPS)
    kept = found & (taken <= b + EPS)
    near_edge = kept & ((taken < a + EPS) | (taken > b - EPS))
    found_b, taken_b = first_photo_from(b - EPS)
    near_edge |= found_b & (taken_b <= b + EPS)
    bad_hour = ~kept | near_edge
    out[hour_sid[bad_hour]] = True
    # photos at the same offset in every hour (two hours or more) are predictable
    offset = np.where(kept, taken - a, np.nan)
    several = hours[hour_sid] >= 2
    if several.any():
        which = hour_sid[several]
        hi = np.full(s.count, -np.inf)
        lo = np.full(s.count, np.inf)
        np.fmax.at(hi, which, offset[several])
        np.fmin.at(lo, which, offset[several])
        out |= (hours >= 2) & (hi - lo <= policy.photo_predictable_tolerance_s + EPS)
    return out


def _near(key: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Does each boundary `at` fall within EPS of the end of a span (`key`, increasing)?"""
    i = np.searchsorted(key, at)
    close = np.zeros(at.size, dtype=bool)
    for j in (i - 1, i):
        ok = (j >= 0) & (j < key.size)
        jj = np.clip(j, 0, key.size - 1)
        close |= ok & (np.abs(key[jj] - at) < EPS)
    return close


def _overlapping_learners(s: _Sessions, policy: Policy) -> set[int]:
    """B2: a learner with two sessions whose playing stretches overlap by more than the
    tolerance; judged on each session's first-to-last playing, which holds every overlap."""
    playing = np.flatnonzero(s.playing & s.opener & (s.duration > 0))
    if playing.size == 0:
        return set()
    sid = s.sid[playing]
    starts = playing[np.r_[True, sid[1:] != sid[:-1]]]
    ends = playing[np.r_[sid[1:] != sid[:-1], True]]
    session = s.sid[starts]
    learner = s.learner_of_session[session]
    begin, finish = s.t[starts], s.t[ends + 1]
    order = np.lexsort((begin, learner))
    learner, begin, finish = learner[order], begin[order], finish[order]
    group = np.cumsum(np.r_[True, learner[1:] != learner[:-1]]) - 1
    origin = float(begin.min())
    width = float(finish.max()) - origin + 1.0
    lifted = (finish - origin) + group * width
    np.maximum.accumulate(lifted, out=lifted)
    same = np.r_[False, group[1:] == group[:-1]]
    latest_before = np.r_[0.0, lifted[:-1]] - group * width + origin
    overlap = np.minimum(finish, latest_before) - begin
    hit = same & (overlap > policy.multi_window_overlap_tolerance_s - 1e-3)
    return set(learner[hit].tolist())


def _out_of_order_learners(s: _Sessions, unit_before: UnitBefore,
                           unit_codes: Mapping[str | None, int]) -> set[int]:
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

    l_learner, l_course, l_unit, l_t = firsts(np.isin(s.kind, (_PLAY, _HEARTBEAT)))
    c_learner, c_course, c_unit, c_t = firsts(s.kind == _COMPLETE)
    completed = {(a, b, c): t for a, b, c, t in zip(c_learner.tolist(), c_course.tolist(), c_unit.tolist(), c_t.tolist())}
    before_of: dict[tuple[int, int], int | None] = {}
    flagged: set[int] = set()
    for who, course, unit, t in zip(l_learner.tolist(), l_course.tolist(), l_unit.tolist(), l_t.tolist()):
        if (course, unit) not in before_of:
            name = unit_before(course, unit)
            before_of[(course, unit)] = None if name is None else unit_codes.get(name, -2)
        before = before_of[(course, unit)]
        if before is None:
            continue
        done = completed.get((who, course, before))
        if done is None or not done < t:
            flagged.add(who)
    return flagged
