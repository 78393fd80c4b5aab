"""B2 multi-window learning (多窗口学习): one learner playing in two sessions at overlapping times
(another tab, device, course or platform), or playing while the window is hidden too long.
Back-to-back sessions are fine."""

from __future__ import annotations

import numpy as np

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.rules.columns import EPS, Screening, SessionColumns
from monitor.online.track import Track


def multi_window(tracks: list[Track], ctx: Context) -> dict[tuple[str, str], list[Finding]]:
    p = ctx.policy
    out: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
    playing = sorted(((a, b, t) for t in tracks for a, b in t.playing_intervals()), key=lambda x: x[0])
    active: list[tuple[float, float, Track]] = []
    for a, b, track in playing:
        active = [x for x in active if x[1] > a]
        for a2, b2, other in active:
            overlap_start, overlap_end = max(a, a2), min(b, b2)
            if other.key == track.key or overlap_end - overlap_start <= p.multi_window_overlap_tolerance_s:
                continue
            for mine, theirs in ((track, other), (other, track)):
                out[mine.key].append(session_finding(
                    mine, "online.multi_window", overlap_start, overlap_end, events=[],
                    measured=round(overlap_end - overlap_start, 3), threshold=p.multi_window_overlap_tolerance_s,
                    message="overlap", args={"session": theirs.session, "platform": theirs.platform,
                                             "course": theirs.course},
                    evidence={"other_session": theirs.session, "other_platform": theirs.platform,
                              "other_course": theirs.course}))
        active.append((a, b, track))
    for track in tracks:
        hidden_from, opened = None, None
        for span in track.spans + [None]:
            hidden_playing = span is not None and span.playing and not span.visible
            if hidden_playing and hidden_from is None:
                hidden_from, opened = span.start_s, span.opened_by
            elif not hidden_playing and hidden_from is not None:
                end = span.start_s if span is not None else track.end_s
                if end - hidden_from > p.unfocused_max_s:
                    out[track.key].append(session_finding(
                        track, "online.multi_window", hidden_from, end, events=[opened],
                        measured=round(end - hidden_from, 3), threshold=p.unfocused_max_s,
                        message="hidden", args={"hidden_s": end - hidden_from}))
                hidden_from = None
    return out


# --- the screen: the same question asked column-wise of every learner, erring towards suspicion

def screen_multi_window(s: SessionColumns, q: Screening) -> np.ndarray:
    """Per session: hidden too long, or its learner's sessions overlap."""
    overlapping = np.fromiter(_screen_overlap(s, q), dtype=np.int64)
    return _screen_hidden(s, q) | np.isin(s.learner_of_session, overlapping)


def _screen_hidden(s: SessionColumns, q: Screening) -> np.ndarray:
    """B2: playing with the window hidden; the total, which any single stretch cannot exceed."""
    hidden = s.opener & s.playing & ~s.visible
    return s.sum_per_session(np.where(hidden, s.duration, 0.0)) > q.policy.unfocused_max_s - EPS


def _screen_overlap(s: SessionColumns, q: Screening) -> set[int]:
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
    hit = same & (overlap > q.policy.multi_window_overlap_tolerance_s - 1e-3)
    return set(learner[hit].tolist())
