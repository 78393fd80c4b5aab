"""B6 randomly kept photos (每课时无随机保留影像照片): every class hour of credited learning keeps at
least one photo; photos at the same offset in every hour could be expected by the learner, so
they are a review finding."""

from __future__ import annotations

import numpy as np

from monitor.findings import Finding, Severity
from monitor.online.rules import Context, session_finding
from monitor.online.rules.columns import EPS, PHOTO, Screening, SessionColumns
from monitor.online.track import Track


def _class_hours(track: Track, hour_s: float) -> list[tuple[float, float]]:
    """Wall intervals holding each successive class hour of credited learning. A last part shorter
    than half a class hour belongs to the hour before it (it is no class hour of its own), unless
    there is none: a short session still needs its photo."""
    hours, credited, start = [], 0.0, None
    for span in track.spans:
        if not span.credited or span.duration_s <= 0:
            continue
        t, left = span.start_s, span.duration_s
        while left > 1e-9:
            start = t if start is None else start
            step = min(left, hour_s - credited)
            credited, t, left = credited + step, t + step, left - step
            if credited >= hour_s - 1e-9:
                hours.append((start, t))
                credited, start = 0.0, None
    if start is not None:
        if hours and credited < hour_s / 2:
            hours[-1] = (hours[-1][0], track.spans[-1].end_s)
        else:
            hours.append((start, track.spans[-1].end_s))
    return hours


def no_photo(track: Track, ctx: Context) -> list[Finding]:
    p = ctx.policy
    photos = [e for e in track.events if e.type == "photo_kept"]
    found, offsets = [], []
    for n, (a, b) in enumerate(_class_hours(track, p.online_class_hour_s), start=1):
        inside = [e for e in photos if a <= e.epoch_s <= b]
        if not inside:
            found.append(session_finding(
                track, "online.no_photo", a, b, events=[], measured=0, threshold=1,
                message="missing", args={"hour": n}))
        else:
            offsets.append((inside[0].epoch_s - a, inside[0].id))
    if len(offsets) >= 2 and max(o for o, _ in offsets) - min(o for o, _ in offsets) <= p.photo_predictable_tolerance_s:
        found.append(session_finding(
            track, "online.no_photo", track.start_s, track.end_s, events=[i for _, i in offsets],
            severity=Severity.REVIEW, measured=round(max(o for o, _ in offsets) - min(o for o, _ in offsets), 3),
            threshold=p.photo_predictable_tolerance_s,
            message="predictable"))
    return found


# --- the screen: the same question asked column-wise of every learner, erring towards suspicion

def screen_no_photo(s: SessionColumns, q: Screening) -> np.ndarray:
    """B6: every class hour of credited learning keeps a photo, at offsets that are not all the
    same. The hours are cut where credited time reaches each multiple of the class hour (see
    _class_hours above); an hour boundary or a photo within EPS of an edge is flagged."""
    hour, credited = q.policy.online_class_hour_s, s.credited
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
    photos = np.flatnonzero(s.kind == PHOTO)
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
        out |= (hours >= 2) & (hi - lo <= q.policy.photo_predictable_tolerance_s + EPS)
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
