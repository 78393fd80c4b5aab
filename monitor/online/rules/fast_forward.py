"""B1 fast-forward (快进播放): a playback rate above 1, a seek (or resumed play) past the furthest
point already watched, or the position running ahead of the wall clock between two reports.
Seeking back and watching again is fine."""

from __future__ import annotations

import numpy as np

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.rules.columns import (
    COMPLETE,
    HEARTBEAT,
    PAUSE,
    PLAY,
    SEEK,
    Screening,
    SessionColumns,
)
from monitor.online.track import Track

_POSITIONED = ("play", "heartbeat", "pause", "unit_complete")


def fast_forward(tracks: list[Track], ctx: Context) -> dict[tuple[str, str], list[Finding]]:
    """Over all of one learner's sessions in time order, because the furthest point watched of a
    unit carries over from one session to the next."""
    p = ctx.policy
    out: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
    furthest: dict[tuple[str, str | None], float] = {}
    for track in sorted(tracks, key=lambda t: t.start_s):
        found = out[track.key]
        for span in track.spans:
            if span.playing and span.rate > 1.0 and span.duration_s > 0:
                found.append(session_finding(
                    track, "online.fast_forward", span.start_s, span.end_s, events=[span.opened_by],
                    measured=span.rate, threshold=1.0, message="rate", args={"rate": span.rate}))
        last: tuple[float, float] | None = None  # (time, position) of the last report while playing, this unit
        playing, rate, unit = False, 1.0, None
        for e in track.events:
            if e.unit and e.unit != unit:
                last = None  # positions of another unit's video do not compare
            unit = e.unit or unit
            key = (track.course, unit)
            if e.type == "seek":
                limit = furthest.get(key, 0.0) + p.position_tolerance_s
                if e.to_s > max(e.from_s, limit):
                    found.append(session_finding(
                        track, "online.fast_forward", e.epoch_s, e.epoch_s, events=[e.id], measured=e.to_s,
                        threshold=round(limit, 3),
                        message="seek", args={"from_s": e.from_s, "to_s": e.to_s}))
                last = (e.epoch_s, e.to_s) if playing else None
                continue
            if e.type == "play":
                limit = furthest.get(key, 0.0) + p.position_tolerance_s
                if e.position_s > limit:
                    found.append(session_finding(
                        track, "online.fast_forward", e.epoch_s, e.epoch_s, events=[e.id], measured=e.position_s,
                        threshold=round(limit, 3), message="play", args={"position_s": e.position_s}))
                playing, rate = True, e.rate or rate
                last = (e.epoch_s, e.position_s)
            elif e.type == "ratechange":
                rate = e.rate
            elif e.type in ("pause", "session_end"):
                playing = playing and e.type != "session_end"
            if e.type in _POSITIONED and e.position_s is not None:
                if last is not None and e.type != "play":
                    dt, dpos = e.epoch_s - last[0], e.position_s - last[1]
                    allowed = dt * max(rate, 1.0) * (1 + p.position_speed_tolerance) + p.position_tolerance_s
                    if dpos > allowed:
                        found.append(session_finding(
                            track, "online.fast_forward", last[0], e.epoch_s, events=[e.id], measured=round(dpos, 3),
                            threshold=round(allowed, 3),
                            message="drift", args={"advanced_s": dpos, "elapsed_s": dt}))
                furthest[key] = max(furthest.get(key, 0.0), e.position_s)
                last = (e.epoch_s, e.position_s) if e.type != "pause" else None
                if e.type == "pause":
                    playing = False
    return out


# --- the screen: the same question asked column-wise of every learner, erring towards suspicion

def screen_fast_forward(s: SessionColumns, q: Screening) -> np.ndarray:
    """B1: a rate above 1 anywhere in the session (the span's duration and playing state aside); a seek or a play past the furthest point watched (here: in this session, which is
    never further than the learner's), or a position running ahead of the clock since the last
    report (rates above 1 are flagged on their own, so the clock's rate is 1)."""
    kind, n = s.kind, s.n
    reported = np.isin(kind, (PLAY, HEARTBEAT, PAUSE, COMPLETE)) & ~np.isnan(s.position)
    reference = reported | (kind == SEEK)
    value = np.where(kind == SEEK, s.to_s, s.position)
    # position against the clock since the last reference of the session
    src = np.where(reference, np.arange(n), -1)
    np.maximum.accumulate(src, out=src)
    previous = np.r_[-1, src[:-1]]
    has_previous = previous >= s.first[s.sid]
    checked = reported & (kind != PLAY) & has_previous
    prev = np.where(has_previous, previous, 0)
    allowed = (s.t - s.t[prev]) * (1 + q.policy.position_speed_tolerance) + q.policy.position_tolerance_s
    out = s.per_session(checked & (s.position - value[prev] > allowed - 1e-3))
    furthest = _watched_before(s, reported)
    limit = furthest + q.policy.position_tolerance_s - 1e-3
    seek_ahead = (kind == SEEK) & (s.to_s > np.maximum(s.from_s - 1e-3, limit))
    play_ahead = (kind == PLAY) & (s.position > limit)
    return out | s.per_session(seek_ahead | play_ahead | (s.rate > 1.0))


def _watched_before(s: SessionColumns, reported: np.ndarray) -> np.ndarray:
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
