"""The online engine: events in (any order, late, re-sent), session verdicts out.

Events are kept per learner; adding events marks only their learners (and, when a course shows a
unit not seen before, the course's learners, whose fallback unit order changed) for recomputation,
so a late event changes only what it touches. Every rule sees events in the same fixed order,
which is why shuffled or duplicated arrival gives the same report.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterable

from pydantic import BaseModel

from monitor.findings import Finding, verdict_of, Verdict
from monitor.online.catalogue import Catalogue
from monitor.online.events import LearningEvent
from monitor.online.rules import Context
from monitor.online.rules.cooldown import cooldown
from monitor.online.rules.course import course_shape
from monitor.online.rules.fast_forward import fast_forward
from monitor.online.rules.multi_window import multi_window
from monitor.online.rules.order import out_of_order
from monitor.online.rules.photos import no_photo
from monitor.online.rules.popups import popup_gap, popup_unanswered
from monitor.online.track import Track, build_track
from monitor.policy import Policy

if TYPE_CHECKING:
    from monitor.online.faces import FaceChecks

SESSION_RULES = (popup_gap, popup_unanswered, no_photo, course_shape, cooldown)


class SessionReport(BaseModel):
    session: str
    learner: str
    platform: str
    course: str
    verdict: Verdict
    credited_s: float
    start: str
    end: str
    events: int
    findings: list[Finding]


class OnlineEngine:
    def __init__(self, policy: Policy, catalogue: Catalogue | None = None, faces: "FaceChecks | None" = None) -> None:
        self._ctx = Context(policy, catalogue or Catalogue())
        self._faces = faces
        self._tracks: dict[str, list[Track]] = {}
        self._found: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        self._events: dict[str, dict[tuple[str, str], list[LearningEvent]]] = defaultdict(lambda: defaultdict(list))
        self._ids: set[str] = set()
        self._units: dict[str, set[str]] = defaultdict(set)
        self._learners_of: dict[str, set[str]] = defaultdict(set)
        self._reports: dict[str, list[SessionReport]] = {}
        self._dirty: set[str] = set()
        self._other_captures: list[LearningEvent] = []
        self.duplicates = 0

    def know_captures(self, events: Iterable[LearningEvent]) -> None:
        """Captures of learners not loaded here, for the replay check of the face checks."""
        self._other_captures.extend(events)

    def know_units(self, course: str, units: Iterable[str]) -> None:
        """Units other learners were seen in (the fallback unit order of B5), when only some
        learners' events are loaded, as the server does when it judges the learners that changed."""
        self._units[course].update(units)

    def add(self, events: Iterable[LearningEvent]) -> int:
        """Take events; an id already taken is a re-sent event and counted once. Returns how many were new."""
        new = 0
        for e in events:
            if e.id in self._ids:
                self.duplicates += 1
                continue
            self._ids.add(e.id)
            new += 1
            self._events[e.learner][(e.platform, e.session)].append(e)
            self._dirty.add(e.learner)
            self._learners_of[e.course].add(e.learner)
            if e.unit is not None and e.unit not in self._units[e.course]:
                self._units[e.course].add(e.unit)
                self._dirty |= self._learners_of[e.course]
        return new

    def sessions(self) -> list[SessionReport]:
        for learner in self._dirty:
            self._tracks[learner], self._found[learner] = self._judge_learner(learner)
            self._reports[learner] = [self._report(t, self._found[learner][t.key]) for t in self._tracks[learner]]
        changed = bool(self._dirty)
        self._dirty.clear()
        if self._faces is not None and changed:
            # A capture can be a replay of any earlier one, of any learner: judged over everything.
            every = [t for tracks in self._tracks.values() for t in tracks]
            faces = self._faces.judge(every, self._other_captures)
            self._reports = {learner: [self._report(t, self._found[learner][t.key] + faces[t.key]) for t in tracks]
                             for learner, tracks in self._tracks.items()}
        return sorted((r for reports in self._reports.values() for r in reports),
                      key=lambda r: (r.start, r.learner, r.platform, r.session))

    def _judge_learner(self, learner: str) -> tuple[list[Track], dict[tuple[str, str], list[Finding]]]:
        tracks = [build_track(events) for events in self._events[learner].values()]
        found: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
        for per_learner in (fast_forward(tracks, self._ctx), multi_window(tracks, self._ctx),
                            out_of_order(tracks, self._ctx, self._units)):
            for key, findings in per_learner.items():
                found[key].extend(findings)
        for track in tracks:
            for rule in SESSION_RULES:
                found[track.key].extend(rule(track, self._ctx))
        return tracks, found

    @staticmethod
    def _report(track: Track, findings: list[Finding]) -> SessionReport:
        findings = sorted(findings, key=lambda f: (f.start or track.start, f.rule))
        return SessionReport(
            session=track.session, learner=track.learner, platform=track.platform, course=track.course,
            verdict=verdict_of(findings), credited_s=round(track.credited_s, 3),
            start=track.events[0].at.isoformat(), end=track.events[-1].at.isoformat(),
            events=len(track.events), findings=findings,
        )


class Rejected(BaseModel):
    line: int
    event_id: str | None
    field: str
    message: str


class OnlineReport(BaseModel):
    sessions: list[SessionReport]
    rejected: list[Rejected]  # malformed records, with where and why; the others still count
    duplicates: int  # re-sent events counted once
    ignored: int  # xAPI statements that say nothing the rules use


def judge_file(path, policy: Policy, catalogue: Catalogue | None = None,
               default_platform: str | None = None, faces: "FaceChecks | None" = None) -> OnlineReport:
    """Read an events file and judge every session in it (what `monitor online` prints)."""
    from monitor.online.reader import read_events

    read = read_events(path, default_platform)
    engine = OnlineEngine(policy, catalogue, faces)
    engine.add(read.events)
    return OnlineReport(
        sessions=engine.sessions(),
        rejected=[Rejected(line=b.line, event_id=b.event_id, field=b.field, message=b.message) for b in read.bad],
        duplicates=read.duplicates + engine.duplicates, ignored=read.ignored,
    )
