"""B1 fast-forward (快进播放): a playback rate above 1, a seek (or resumed play) past the furthest
point already watched, or the position running ahead of the wall clock between two reports.
Seeking back and watching again is fine."""

from __future__ import annotations

from monitor.findings import Finding
from monitor.online.rules import Context, session_finding
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
                    measured=span.rate, threshold=1.0, detail=f"played at {span.rate:g}x"))
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
                        detail=f"seek from {e.from_s:g} s to {e.to_s:g} s, past the furthest point watched"))
                last = (e.epoch_s, e.to_s) if playing else None
                continue
            if e.type == "play":
                limit = furthest.get(key, 0.0) + p.position_tolerance_s
                if e.position_s > limit:
                    found.append(session_finding(
                        track, "online.fast_forward", e.epoch_s, e.epoch_s, events=[e.id], measured=e.position_s,
                        threshold=round(limit, 3), detail=f"play starts at {e.position_s:g} s, past the furthest point watched"))
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
                            detail=f"position advanced {dpos:.0f} s in {dt:.0f} s of wall-clock time"))
                furthest[key] = max(furthest.get(key, 0.0), e.position_s)
                last = (e.epoch_s, e.position_s) if e.type != "pause" else None
                if e.type == "pause":
                    playing = False
    return out
