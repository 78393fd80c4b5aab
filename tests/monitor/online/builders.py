"""Hand-made learner sessions for the rule tests: a clean one, and small edits that break one rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine, SessionReport
from monitor.online.reader import collect, parse_record
from monitor.policy import load_policy

T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=timezone(timedelta(hours=8)))


class Session:
    def __init__(self, learner: str = "L1", session: str = "S1", platform: str = "P1", course: str = "C1",
                 start_s: float = 0.0, unit: str = "U1") -> None:
        self.base = dict(learner=learner, session=session, platform=platform, course=course)
        self.start_s, self.unit, self.events, self.n = start_s, unit, [], 0

    def add(self, kind: str, at_s: float, **fields: Any) -> "Session":
        self.n += 1
        fields.setdefault("unit", self.unit)
        self.events.append({"id": f"{self.base['platform']}-{self.base['session']}-{self.n}", "type": kind,
                            "at": (T0 + timedelta(seconds=self.start_s + at_s)).isoformat(), **self.base, **fields})
        return self

    def watch(self, from_s: float, to_s: float, position: float = 0.0, step: float = 30.0) -> "Session":
        """play at from_s, heartbeats every step, pause at to_s, the position following the clock."""
        self.add("play", from_s, position_s=position)
        t = from_s
        while t + step < to_s:
            t += step
            self.add("heartbeat", t, position_s=position + t - from_s)
        return self.add("pause", to_s, position_s=position + to_s - from_s)


def clean_session(length_s: float = 600.0, **kw: Any) -> Session:
    """Ten minutes of learning at 1x, pop-ups at 100 s and 380 s (answered), a photo at 200 s."""
    s = Session(**kw).add("session_start", 0).add("face_capture", 0, image="c.jpg")
    s.watch(0, length_s)
    for shown in range(100, int(length_s) - 20, 280):
        s.add("popup_shown", shown, popup=f"{s.base['session']}-p{shown}")
        s.add("popup_answered", shown + 5, popup=f"{s.base['session']}-p{shown}")
    s.add("photo_kept", 200, image="p.jpg")
    return s.add("session_end", length_s)


def judge(events: list[dict[str, Any]], catalogue: dict[str, Any] | None = None,
          **overrides: Any) -> list[SessionReport]:
    read = collect(parse_record(e, n) for n, e in enumerate(events, start=1))
    assert not read.bad, read.bad
    engine = OnlineEngine(load_policy("zhengzhou-2022", overrides), Catalogue.model_validate(catalogue or {}))
    engine.add(read.events)
    return engine.sessions()


def rules_of(reports: list[SessionReport], session: str | None = None) -> list[str]:
    return sorted(f.rule for r in reports if session in (None, r.session) for f in r.findings)
