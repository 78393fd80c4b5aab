"""B6 randomly kept photos (每课时无随机保留影像照片): every class hour of credited learning keeps at
least one photo; photos at the same offset in every hour could be expected by the learner, so
they are a review finding."""

from __future__ import annotations

from monitor.findings import Finding, Severity
from monitor.online.rules import Context, session_finding
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
                detail=f"class hour {n} of credited learning kept no photo"))
        else:
            offsets.append((inside[0].epoch_s - a, inside[0].id))
    if len(offsets) >= 2 and max(o for o, _ in offsets) - min(o for o, _ in offsets) <= p.photo_predictable_tolerance_s:
        found.append(session_finding(
            track, "online.no_photo", track.start_s, track.end_s, events=[i for _, i in offsets],
            severity=Severity.REVIEW, measured=round(max(o for o, _ in offsets) - min(o for o, _ in offsets), 3),
            threshold=p.photo_predictable_tolerance_s,
            detail="photos kept at the same moment of every class hour: predictable, not random"))
    return found
