"""One learner session as the rules see it: its events in a fixed order, and the spans between
consecutive events with the state the learner was in (playing, rate, window visible, blocked by an
unanswered pop-up). Credited time is read off the spans.

What counts as credited time (what the subsidy follows) is defined once, in `is_credited`: the
spans here and the screen's columns (rules/columns.py) both apply it, and the screen tests hold
the two sums equal on every session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from monitor.online.events import LearningEvent

if TYPE_CHECKING:
    import numpy as np

B = TypeVar("B")  # a bool, or a numpy array of them: one definition for spans and for columns


def is_credited(playing: B, rate: "float | np.ndarray", visible: B, blocked: B) -> B:
    """A span counts as learning time when the learner is playing at no more than 1x, with the
    learning window visible, and not after an unanswered pop-up until another is answered (B1,
    B2, B3). Works alike on one span's bools and on whole columns of them."""
    return playing & (rate <= 1.0) & visible & (blocked == False)


@dataclass(frozen=True)
class Span:
    start_s: float  # epoch seconds
    end_s: float
    playing: bool
    rate: float
    visible: bool
    blocked: bool  # after a failed pop-up, until another one is answered
    unit: str | None
    opened_by: str  # id of the event that starts the span

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def credited(self) -> bool:
        return bool(is_credited(self.playing, self.rate, self.visible, self.blocked))


@dataclass
class Track:
    learner: str
    session: str
    platform: str
    course: str
    events: list[LearningEvent]
    spans: list[Span] = field(default_factory=list)
    failed_popups: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # popup -> (time, event id, why)

    @property
    def key(self) -> tuple[str, str]:
        """A session id is the platform's: two platforms may use the same one."""
        return (self.platform, self.session)

    @property
    def start_s(self) -> float:
        return self.events[0].epoch_s

    @property
    def end_s(self) -> float:
        return self.events[-1].epoch_s

    @property
    def start(self) -> datetime:
        return self.events[0].at

    @property
    def credited_s(self) -> float:
        return sum(s.duration_s for s in self.spans if s.credited)

    def playing_intervals(self) -> list[tuple[float, float]]:
        """Consecutive playing spans merged."""
        out: list[list[float]] = []
        for s in self.spans:
            if not s.playing or s.duration_s <= 0:
                continue
            if out and abs(out[-1][1] - s.start_s) < 1e-9:
                out[-1][1] = s.end_s
            else:
                out.append([s.start_s, s.end_s])
        return [(a, b) for a, b in out]


def _failed_popups(events: list[LearningEvent]) -> dict[str, tuple[float, str, str]]:
    """Pop-ups that timed out, or were shown and never answered: when they failed and why."""
    shown: dict[str, LearningEvent] = {}
    answered: set[str] = set()
    failed: dict[str, tuple[float, str, str]] = {}
    for e in events:
        if e.type == "popup_shown":
            shown.setdefault(e.popup, e)
        elif e.type == "popup_answered":
            answered.add(e.popup)
        elif e.type == "popup_timeout" and e.popup not in failed:
            failed[e.popup] = (e.epoch_s, e.id, "timed out")
    for popup, e in shown.items():
        if popup not in answered and popup not in failed:
            failed[popup] = (e.epoch_s, e.id, "never answered")
    return failed


def build_track(events: list[LearningEvent]) -> Track:
    """A session's events (any order, no duplicate ids) into a Track."""
    ordered = sorted(events, key=lambda e: e.order_key)
    first = ordered[0]
    track = Track(first.learner, first.session, first.platform, first.course, ordered)
    track.failed_popups = _failed_popups(ordered)
    failing_events = {event_id for _, event_id, _ in track.failed_popups.values()}
    playing, rate, visible, blocked, unit = False, 1.0, True, False, None
    for e, nxt in zip(ordered, ordered[1:] + [None]):
        kind = e.type
        if e.unit:
            unit = e.unit
        if kind == "play":
            playing = True
            rate = e.rate if e.rate is not None else rate
        elif kind in ("pause", "session_end"):
            playing = False
        elif kind == "ratechange":
            rate = e.rate
        elif kind == "hidden":
            visible = False
        elif kind == "visible":
            visible = True
        elif kind == "popup_answered" and e.popup not in track.failed_popups:
            blocked = False
        if e.id in failing_events:
            blocked = True
        if nxt is not None:
            track.spans.append(Span(e.epoch_s, nxt.epoch_s, playing, rate, visible, blocked, unit, e.id))
    return track
