"""B3 pop-up control (连续5分钟内无弹窗管控): while learning, the learning time from start to the
first pop-up, between pop-ups and from the last to the end never exceeds popup_max_gap_s; a pop-up
that timed out or was never answered is a finding too (and stops credited time, see Track)."""

from __future__ import annotations

import numpy as np

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
from monitor.online.rules.columns import EPS, SHOWN, Screening, SessionColumns
from monitor.online.track import Track


def popup_gap(track: Track, ctx: Context) -> list[Finding]:
    limit = ctx.policy.popup_max_gap_s
    found = []
    shown = {e.id for e in track.events if e.type == "popup_shown"}
    learned, since_s, since_event = 0.0, None, None

    def close(at_s: float, event_id: str | None) -> None:
        if since_s is not None and learned > limit + 1e-9:
            found.append(session_finding(
                track, "online.popup_gap", since_s, at_s, events=[x for x in (since_event, event_id) if x],
                measured=round(learned, 3), threshold=limit,
                message="gap", args={"learned_s": learned}))

    for span in track.spans:
        if span.opened_by in shown:
            close(span.start_s, span.opened_by)
            learned, since_s, since_event = 0.0, span.start_s, span.opened_by
        if span.playing:
            if since_s is None:
                since_s, since_event = span.start_s, span.opened_by
            learned += span.duration_s
    close(track.end_s, track.events[-1].id)
    return found


def popup_unanswered(track: Track, ctx: Context) -> list[Finding]:
    return [
        session_finding(track, "online.popup_unanswered", at, at, events=[event_id], measured=why,
                        message=why, args={"popup": popup})
        for popup, (at, event_id, why) in sorted(track.failed_popups.items(), key=lambda x: x[1][0])
    ]


# --- the screen: the same question asked column-wise of every learner, erring towards suspicion

def screen_popup_gap(s: SessionColumns, q: Screening) -> np.ndarray:
    """B3: learning time between pop-ups (spans opened by a pop-up start a new count)."""
    shown_opens = (s.kind == SHOWN) & s.opener
    run = np.cumsum(s.new | shown_opens) - 1
    learned = np.bincount(run, weights=np.where(s.playing & s.opener, s.duration, 0.0))
    long_runs = np.flatnonzero(learned > q.policy.popup_max_gap_s - EPS)
    out = np.zeros(s.count, dtype=bool)
    if long_runs.size:
        run_start = np.flatnonzero(s.new | shown_opens)
        out[s.sid[run_start[long_runs]]] = True
    return out


def screen_popup_unanswered(s: SessionColumns, q: Screening) -> np.ndarray:
    """B3: a pop-up timed out, or was shown and never answered in the session (the failing rows
    the columns mark for credited time, track.failed_popups' twin)."""
    return s.per_session(s.failing)
