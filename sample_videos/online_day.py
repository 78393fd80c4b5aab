"""A day of an e-learning platform: learners watching course units with heartbeats, attention
pop-ups, kept photos and face captures, and a few learners who break each rule of POLICY B1-B8.
Used by the demo, the tests and the bench. Run: python -m sample_videos.online_day OUT_DIR [LEARNERS]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

CST = timezone(timedelta(hours=8))
DAY = datetime(2026, 11, 20, 8, 0, 0, tzinfo=CST)
UNITS = [f"U{n}" for n in range(1, 9)]
UNIT_S = 1200.0  # every unit is a 20-minute video
HEARTBEAT_S = 30.0

# The violations planted, by the rule that must catch them.
VIOLATIONS = ("online.fast_forward", "online.multi_window", "online.popup_gap", "online.popup_unanswered",
              "online.out_of_order", "online.no_photo", "person.cooldown", "online.theory_share")


@dataclass
class _Session:
    rng: np.random.Generator
    learner: str
    session: str
    platform: str
    course: str
    t: float  # seconds after DAY
    unit: int
    position: float
    break_rule: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def emit(self, kind: str, **fields: Any) -> None:
        self.counter += 1
        self.events.append({
            "id": f"{self.platform}-{self.session}-{self.counter}", "type": kind,
            "at": (DAY + timedelta(seconds=round(self.t, 3))).isoformat(), "learner": self.learner,
            "session": self.session, "platform": self.platform, "course": self.course,
            "unit": UNITS[self.unit], **fields,
        })
        self.t += 0.002  # a client stamps each event a little after the one before


def simulate_session(rng: np.random.Generator, learner: str, session: str, platform: str, course: str,
                     start_s: float, length_s: float, unit: int, position: float,
                     break_rule: str | None = None) -> tuple[list[dict[str, Any]], int, float]:
    """One session: returns its events and the unit and position where the learner stopped."""
    s = _Session(rng, learner, session, platform, course, start_s, unit, position, break_rule)
    end = start_s + length_s
    s.emit("session_start")
    s.emit("visible")
    s.emit("face_capture", image=f"captures/{session}-start.jpg")
    s.emit("play", position_s=round(s.position, 3), rate=1.0)
    next_popup = s.t + rng.uniform(60, 240)
    hour_start, photo_at = s.t, s.t + rng.uniform(60, max(120.0, min(2600.0, length_s - 120)))
    rate, popup_n, hidden_until = 1.0, 0, None
    misbehave_at = start_s + length_s * rng.uniform(0.3, 0.6)
    while s.t + HEARTBEAT_S <= end:
        s.t += HEARTBEAT_S
        s.position += HEARTBEAT_S * rate
        if break_rule == "online.fast_forward" and rate == 1.0 and s.t >= misbehave_at:
            s.emit("ratechange", rate=2.0)
            rate, misbehave_at = 2.0, s.t + 90
        elif rate > 1.0 and s.t >= misbehave_at:
            s.emit("ratechange", rate=1.0)
            rate, misbehave_at = 1.0, float("inf")
        if hidden_until is not None and s.t >= hidden_until:
            s.emit("visible")
            hidden_until = None
        if s.position >= UNIT_S:
            s.position = UNIT_S
            s.emit("heartbeat", position_s=UNIT_S)
            s.emit("unit_complete", position_s=UNIT_S)
            if s.unit + 1 >= len(UNITS):
                break
            s.unit += 1
            s.position = 0.0
            s.emit("play", position_s=0.0, rate=rate)
            continue
        s.emit("heartbeat", position_s=round(s.position, 3))
        if s.t >= next_popup:
            popup_n += 1
            popup = f"{session}-p{popup_n}"
            s.emit("popup_shown", popup=popup)
            answer = rng.uniform(3, 20)
            if break_rule == "online.popup_unanswered" and popup_n == 2:
                s.t += 60
                s.emit("popup_timeout", popup=popup)
            else:
                s.t += answer
                s.emit("popup_answered", popup=popup)
                s.position += answer
            gap = rng.uniform(150, 240)  # checked at heartbeats: the real gap is up to 30 s longer
            if break_rule == "online.popup_gap" and popup_n == 2:
                gap = 420
            elif break_rule == "online.popup_unanswered" and popup_n == 2:
                gap = 120  # the minute spent waiting counts as learning time without control
            next_popup = s.t + gap
        if s.t >= photo_at and break_rule != "online.no_photo":
            s.emit("photo_kept", image=f"photos/{session}-{int(s.t)}.jpg")
            photo_at = float("inf")
        if s.t - hour_start >= 2700:
            hour_start = s.t
            photo_at = s.t + rng.uniform(60, max(120.0, min(2600.0, end - s.t - 120)))
    s.emit("pause", position_s=round(min(s.position, UNIT_S), 3))
    s.emit("session_end")
    return s.events, s.unit, s.position


def make_day(learners: int = 300, seed: int = 11) -> dict[str, Any]:
    """Events (shuffled in arrival order like a real feed), the course catalogue, the learners'
    history, and which learner was made to break which rule."""
    rng = np.random.default_rng(seed)
    events: list[dict[str, Any]] = []
    planted: dict[str, str] = {}
    completed_before: dict[str, tuple[str, int, str]] = {}
    history: dict[str, list[dict[str, Any]]] = {}
    courses = {
        "ELEC-2026": {"units": UNITS, "total_hours": 60, "online_hours": 20, "occupation": "电工"},
        "WELD-2026": {"units": UNITS, "total_hours": 40, "online_hours": 20, "occupation": "焊工"},
    }
    for n in range(learners):
        learner = f"L-{n:05d}"
        rule = VIOLATIONS[n % len(VIOLATIONS)] if n % 25 == 0 or n % 25 == 1 else None
        if rule is not None:
            rule = VIOLATIONS[(n // 25 * 2 + n % 25) % len(VIOLATIONS)]
            planted[learner] = rule
        course = "WELD-2026" if rule == "online.theory_share" else "ELEC-2026"
        platform = "edu-a" if n % 3 else "edu-b"
        start = first_start = rng.uniform(0, 8 * 3600)
        unit, position = int(rng.integers(0, 3)), 0.0
        completed_before[learner] = (course, unit, platform)  # units before this one were completed yesterday
        if rule == "online.out_of_order":
            unit += 2  # jumps two units ahead of what was completed
        for k in range(1, 1 + int(rng.integers(1, 3))):
            length = rng.uniform(1800, 3300)
            made, unit, position = simulate_session(rng, learner, f"{learner}-s{k}", platform, course,
                                                    start, length, unit, position,
                                                    rule if k == 1 else None)
            events += made
            start += length + rng.uniform(600, 3600)
        if rule == "online.multi_window":
            made, _, _ = simulate_session(rng, learner, f"{learner}-x", "edu-c", course,
                                          first_start + 600, 1200, 0, 0.0)
            events += made
        if rule == "person.cooldown":
            history[learner] = [{"course": "CHEF-2026", "assessed_at": (DAY - timedelta(days=12)).isoformat()}]
        elif n % 7 == 0:
            history[learner] = [{"course": "CHEF-2025", "assessed_at": (DAY - timedelta(days=200)).isoformat()}]
    # Units completed before this day: a session of yesterday's, on the same platform (a course's
    # progress is the platform's own).
    for learner, (course, first_unit, platform) in completed_before.items():
        for u in range(first_unit):
            events.append({"id": f"prior-{learner}-{u}", "type": "unit_complete",
                           "at": (DAY - timedelta(days=1, seconds=3600 - 60 * u)).isoformat(),
                           "learner": learner, "session": f"{learner}-s0", "platform": platform,
                           "course": course, "unit": UNITS[u], "position_s": UNIT_S})
    order = rng.permutation(len(events))
    return {"events": [events[i] for i in order], "courses": courses, "history": history, "planted": planted}


def write_day(folder: Path, learners: int = 300, seed: int = 11) -> dict[str, Path]:
    day = make_day(learners, seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.json" for name in ("courses", "history", "planted")}
    paths["events"] = folder / "events.jsonl"
    with paths["events"].open("w", encoding="utf-8") as out:
        for event in day["events"]:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
    for name in ("courses", "history", "planted"):
        paths[name].write_text(json.dumps(day[name], ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out" / "online"
    print(write_day(target, int(sys.argv[2]) if len(sys.argv) > 2 else 300)["events"])
