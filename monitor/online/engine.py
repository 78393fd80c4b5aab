"""The online engine: events in (any order, late, re-sent), session verdicts out.

Events are kept as columns (table.py); adding events marks only their learners (and, when a
course shows a unit not seen before, the course's learners, whose fallback unit order changed) for
recomputation, so a late event changes only what it touches. The learners to recompute go through
the screen (screen.py), a few array operations over all of them; those it flags, and only those,
are read event by event by the rules (rules/), which write the findings. Each rule is one module
holding both forms, listed in rules/registry.py, which is all this engine and the screen run.
Every rule sees events in the same fixed order, which is why shuffled or duplicated arrival gives
the same report. Findings cite the judging profile's own clauses (Policy.clauses, in `_report`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
from pydantic import BaseModel

from monitor.findings import Finding, Verdict, cited, verdict_of
from monitor.online.catalogue import Catalogue
from monitor.online.events import EventFields, LearningEvent, as_learning_event
from monitor.online.rules import Context
from monitor.online.rules.course import course_shape
from monitor.online.rules.order import order_not_judged, unit_before
from monitor.online.rules.registry import CATALOGUE_RULES, LEARNER_RULES, SESSION_RULES
from monitor.online.screen import Screened, Screening, screen
from monitor.online.table import EventTable, Interners, gc_paused
from monitor.online.track import Track, build_track
from monitor.policy import Policy

if TYPE_CHECKING:
    import pyarrow as pa

    from monitor.online.columnar import Partitions
    from monitor.online.faces import FaceChecks


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


_REPORT_ORDER = attrgetter("start", "learner", "platform", "session")


class OnlineEngine:
    def __init__(self, policy: Policy, catalogue: Catalogue | None = None, faces: "FaceChecks | None" = None,
                 screened: bool = True) -> None:
        """`screened=False` sends every learner through the rules event by event (the screen's
        oracle in the tests); face checks do so too, as every capture is compared with every other."""
        self._units: dict[str, set[str]] = defaultdict(set)
        self._ctx = Context(policy, catalogue or Catalogue(), self._units)
        self._faces = faces
        self._screened = screened and faces is None
        self._names = Interners.new()
        self._chunks: list[EventTable] = []
        self._tracks: dict[str, list[Track]] = {}
        self._found: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        self._ids: set[str] | None = set()  # None: not made yet (see add_arrow)
        self._learners_of: dict[str, set[str]] = defaultdict(set)
        self._reports: dict[str, list[SessionReport]] = {}
        self._dirty: set[str] = set()
        self._other_captures: list[LearningEvent] = []
        self.duplicates = 0
        self._course_finds: dict[str, bool] = {}
        self._prior: dict[str, list[Track]] = {}
        self.fully_read_learners = 0  # learners the screen sent to the rules, event by event

    def carry(self, learner: str, prior: list[Track]) -> None:
        """What the learner's sessions not loaded here hand on (monitor/online/carry.py): stand-in
        tracks the learner rules see before the loaded sessions, never judged or reported. The
        screen does not see them: every learner then goes through the rules."""
        self._prior[learner] = prior
        self._screened = False

    def tracks_of(self, learner: str) -> list[Track]:
        """The learner's sessions as the rules read them (after sessions(); not screened)."""
        return self._tracks.get(learner, [])

    def know_captures(self, events: Iterable[LearningEvent]) -> None:
        """Captures of learners not loaded here, for the replay check of the face checks."""
        self._other_captures.extend(events)

    def know_units(self, course: str, units: Iterable[str]) -> None:
        """Units other learners were seen in (the fallback unit order of B5), when only some
        learners' events are loaded, as the server does when it judges the learners that changed."""
        self._units[course].update(units)

    def add(self, events: Iterable[EventFields]) -> int:
        """Take events; an id already taken is a re-sent event and counted once. Returns how many were new."""
        with gc_paused():
            rows = self._new_only(events if isinstance(events, list) else list(events))
            if rows:
                self._take(EventTable.build(rows, self._names))
            return len(rows)

    def add_arrow(self, table: "pa.Table") -> int:
        """Take the events of a clean file read into columns (columnar.read_clean: each id once)."""
        from monitor.online.columnar import to_event_table

        with gc_paused():
            if self._chunks:  # ids of earlier batches: the slower way, by objects
                return self.add(to_event_table(table, self._names).rows.events(range(table.num_rows)))
            self._ids = None  # made from the table if another batch comes
            self._take(to_event_table(table, self._names))
            return table.num_rows

    def _take(self, table: EventTable) -> None:
        self._chunks.append(table)
        names = self._names
        learners = {names.learner.name(c) for c in np.unique(table.learner).tolist()}
        self._dirty |= learners
        for course, learner in _pairs(table.course, table.learner):
            self._learners_of[names.course.name(course)].add(names.learner.name(learner))
        for course, unit in _pairs(table.course, table.unit):
            course_name = names.course.name(course)
            known = self._units[course_name]
            if unit >= 0 and names.unit.name(unit) not in known:
                known.add(names.unit.name(unit))
                self._dirty |= self._learners_of[course_name]  # the fallback unit order changed

    def _new_only(self, rows: list[EventFields]) -> list[EventFields]:
        if self._ids is None:
            self._ids = {i for t in self._chunks for i in t.rows.ids()}
        ids = [e.id for e in rows]
        distinct = dict.fromkeys(ids)
        if len(distinct) == len(rows) and self._ids.isdisjoint(distinct):
            self._ids.update(distinct)
            return rows
        fresh = []
        for e in rows:
            if e.id in self._ids:
                self.duplicates += 1
                continue
            self._ids.add(e.id)
            fresh.append(e)
        return fresh

    def sessions(self) -> list[SessionReport]:
        if self._dirty:
            with gc_paused():
                self._judge_dirty()
        return sorted((r for reports in self._reports.values() for r in reports), key=_REPORT_ORDER)

    def _judge_dirty(self) -> None:
        table = EventTable.concat(self._chunks)
        self._chunks = [table]
        codes = self._names.learner.codes
        dirty = np.array([codes[name] for name in self._dirty], dtype=np.int64)
        self._dirty.clear()
        part = table if dirty.size == len(codes) - 1 else table.take(
            np.flatnonzero(np.isin(table.learner, dirty)))
        found = screen(part, Screening(self._ctx.policy, self._unit_before, self._names.unit.codes))
        if not self._screened:
            found.flagged[:] = True
        rows, first, last = found.rows, found.first, found.last
        reports = self._clean_reports(part, found)
        flagged_rows = rows[np.repeat(found.flagged, last - first + 1)]
        judged = self._judge_flagged(part.rows.events(flagged_rows.tolist()))
        self.fully_read_learners += len(judged)
        for learner in set(reports) | set(judged):
            self._reports[learner] = reports.get(learner, []) + judged.get(learner, [])
        if self._faces is not None and judged:
            # A capture can be a replay of any earlier one, of any learner: judged over everything.
            every = [t for tracks in self._tracks.values() for t in tracks]
            faces = self._faces.judge(every, self._other_captures)
            self._reports = {learner: [self._report(t, self._found[learner][t.key] + faces[t.key]) for t in tracks]
                             for learner, tracks in self._tracks.items()}

    def notes(self) -> list[str]:
        """What the report cannot judge and why: unit order in courses with no catalogue sequence
        whose units are not plain numbers (rules/order.py)."""
        return order_not_judged(self._ctx.catalogue, self._units)

    def _unit_before(self, course: int, unit: int) -> str | None:
        names = self._names
        return unit_before(names.course.name(course), names.unit.name(unit), self._ctx)

    def _clean_reports(self, part: EventTable, found: Screened) -> dict[str, list[SessionReport]]:
        """The sessions the screen cleared, from their first and last rows' fields: only the
        catalogue rules, which need no events, can find anything in them (they get the session's
        first and last events)."""
        clean = np.flatnonzero(~found.flagged)
        heads, tails = found.rows[found.first[clean]], found.rows[found.last[clean]]
        head = part.rows.fields(("learner", "session", "platform", "course", "at"), heads.tolist())
        tail_at = part.rows.fields(("at",), tails.tolist())["at"]
        counts = (found.last - found.first + 1)[clean].tolist()
        credited = found.credited_s[clean].tolist()
        history = self._ctx.catalogue.history
        shaped = self._courses_against_rules(set(head["course"]))
        ruled = [k for k, (learner, course) in enumerate(zip(head["learner"], head["course"]))
                 if learner in history or course in shaped]
        self._note_starts((head["learner"][k], head["course"][k], _instant(head["at"][k])) for k in ruled)
        ends = part.rows.events(np.stack([heads[ruled], tails[ruled]], axis=1).ravel().tolist())
        ends_of = {k: (ends[2 * j], ends[2 * j + 1]) for j, k in enumerate(ruled)}
        reports: dict[str, list[SessionReport]] = defaultdict(list)
        for k, (learner, session, platform, course) in enumerate(
                zip(head["learner"], head["session"], head["platform"], head["course"])):
            if k in ends_of:
                track = Track(learner, session, platform, course, [as_learning_event(e) for e in ends_of[k]])
                findings = [f for rule in CATALOGUE_RULES for f in rule.judge(track, self._ctx)]
                reports[learner].append(self._report(track, findings, credited[k], counts[k]))
                continue
            reports[learner].append(SessionReport.model_construct(
                session=session, learner=learner, platform=platform, course=course, verdict=Verdict.VALID,
                credited_s=round(credited[k], 3), start=_iso(head["at"][k]), end=_iso(tail_at[k]),
                events=counts[k], findings=[]))
        return reports

    def _courses_against_rules(self, courses: set[str]) -> set[str]:
        """The courses whose shape breaks a rule (course_shape looks at the course alone; it is
        asked on a stand-in session)."""
        stand_in = LearningEvent("-", "session_start", datetime.fromtimestamp(0, timezone.utc), "-", "-", "-", "-")
        for course in courses - self._course_finds.keys():
            self._course_finds[course] = course in self._ctx.catalogue.courses and bool(
                course_shape(Track("-", "-", "-", course, [stand_in]), self._ctx))
        return {course for course in courses if self._course_finds[course]}

    def _judge_flagged(self, rows: list[EventFields]) -> dict[str, list[SessionReport]]:
        by_learner: dict[str, dict[tuple[str, str], list[LearningEvent]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            e = as_learning_event(row)
            by_learner[e.learner][(e.platform, e.session)].append(e)
        out = {}
        for learner, sessions in by_learner.items():
            tracks, found = self._judge_learner(list(sessions.values()), self._prior.get(learner, []))
            self._tracks[learner], self._found[learner] = tracks, found
            out[learner] = [self._report(t, found[t.key]) for t in tracks]
        return out

    def _judge_learner(self, sessions: list[list[LearningEvent]],
                       prior: list[Track]) -> tuple[list[Track], dict[tuple[str, str], list[Finding]]]:
        real = sorted((build_track(events) for events in sessions), key=lambda t: (t.start_s, t.key))
        tracks = sorted(prior + real, key=lambda t: (t.start_s, t.key)) if prior else real
        self._note_starts((t.learner, t.course, t.start) for t in tracks)
        found: dict[tuple[str, str], list[Finding]] = {t.key: [] for t in tracks}
        for learner_rule in LEARNER_RULES:
            for key, findings in learner_rule.judge(tracks, self._ctx).items():
                found[key].extend(findings)
        for track in real:
            for rule in SESSION_RULES:
                found[track.key].extend(rule.judge(track, self._ctx))
        for stand_in in prior:
            found.pop(stand_in.key, None)
        return real, found

    def _note_starts(self, sessions: Iterable[tuple[str, str, datetime]]) -> None:
        """When each (learner, course) training began: its earliest session among the learner's
        (B8 judges a training on its start). A judged learner's events are all here, so the
        minimum over them is the start; recomputed whenever the learner is."""
        found: dict[tuple[str, str], datetime] = {}
        for learner, course, at in sessions:
            key = (learner, course)
            if key not in found or at < found[key]:
                found[key] = at
        self._ctx.starts.update(found)

    def _report(self, track: Track, findings: list[Finding], credited_s: float | None = None,
                count: int | None = None) -> SessionReport:
        """A session's report; its findings cite the clauses of the profile judging it (the rules
        write the catalogue's: one place to cite, faces' findings included)."""
        findings = sorted(cited(findings, self._ctx.policy.clauses), key=lambda f: (f.start or track.start, f.rule))
        return SessionReport(
            session=track.session, learner=track.learner, platform=track.platform, course=track.course,
            verdict=verdict_of(findings), credited_s=round(track.credited_s if credited_s is None else credited_s, 3),
            start=track.events[0].at.isoformat(), end=track.events[-1].at.isoformat(),
            events=len(track.events) if count is None else count, findings=findings,
        )


def _instant(at: "datetime | str") -> datetime:
    return at if isinstance(at, datetime) else datetime.fromisoformat(at)


def _iso(at: "datetime | str") -> str:
    """A reported time as the reports write it (Python's ISO form: 'Z' becomes +00:00)."""
    return (at if isinstance(at, datetime) else datetime.fromisoformat(at)).isoformat()


def _pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """The distinct (a, b) pairs of two code columns."""
    width = int(b.max()) + 2 if b.size else 1
    both = np.unique(a * width + (b + 1))
    return list(zip((both // width).tolist(), (both % width - 1).tolist()))


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
    notes: list[str] = []  # what could not be judged and why (unit order without a sequence)


@dataclass
class Judged:
    """A file judged by partitions: the report's parts, and what the bench and the tests read of
    how it went."""

    sessions: list[SessionReport]
    notes: list[str]
    fully_read_learners: int  # learners the screen sent to the rules, event by event
    most_rows: int  # the most events one engine held at once (a partition's)


def judge_partitions(parts: "Partitions", policy: Policy, catalogue: Catalogue | None = None) -> Judged:
    """Judge a file's partitions one at a time, each by an engine of its own that is let go before
    the next: the verdicts of one engine holding everything (a learner's events are all in one
    partition; the units of every course, the one thing seen across learners, are told each
    engine first), in a partition's memory."""
    catalogue = catalogue or Catalogue()
    sessions: list[SessionReport] = []
    fully_read = most = 0
    for table in parts.tables():
        engine = OnlineEngine(policy, catalogue)
        for course, units in parts.units.items():
            engine.know_units(course, units)
        most = max(most, engine.add_arrow(table))
        del table
        sessions.extend(engine.sessions())
        fully_read += engine.fully_read_learners
    sessions.sort(key=_REPORT_ORDER)
    return Judged(sessions, order_not_judged(catalogue, parts.units), fully_read, most)


def judge_file(path, policy: Policy, catalogue: Catalogue | None = None,
               default_platform: str | None = None, faces: "FaceChecks | None" = None,
               part_bytes: int | None = None) -> OnlineReport:
    """Read an events file and judge every session in it (what `monitor online` prints). A clean
    file is judged a partition of its learners at a time (about `part_bytes` of the file each);
    anything else, and any file with face checks (a capture is compared with everyone's), is read
    and judged whole. (pyarrow and the readers are imported here, not by the service's engine.)"""
    from monitor.online.columnar import PART_BYTES, partition_clean
    from monitor.online.reader import read_events

    if faces is None:
        parts = partition_clean(Path(path), part_bytes or PART_BYTES)
        if parts is not None:
            with parts:
                judged = judge_partitions(parts, policy, catalogue)
            return OnlineReport(sessions=judged.sessions, rejected=[], duplicates=parts.duplicates, ignored=0,
                                notes=judged.notes)
    read = read_events(path, default_platform)
    engine = OnlineEngine(policy, catalogue, faces)
    engine.add(read.events)
    return OnlineReport(
        sessions=engine.sessions(),
        rejected=[Rejected(line=b.line, event_id=b.event_id, field=b.field, message=b.message) for b in read.bad],
        duplicates=read.duplicates + engine.duplicates, ignored=read.ignored,
        notes=engine.notes(),
    )
