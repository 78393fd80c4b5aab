"""The class analysis: place every recording on the wall clock, run the detectors, and judge
each class hour (POLICY A1, A2) from the footage that remains valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Callable

import numpy as np

from monitor.faces.enrol import EncodingCache, Enrolled, enrol
from monitor.findings import Finding, Severity, cited, finding, verdict_of
from monitor.footage import intervals as iv
from monitor.footage.detector import ClassSignals
from monitor.footage.registry import registry
from monitor.footage.events import FootageEvent
from monitor.footage.media import PacketTimeline, UnreadableMedia, probe
from monitor.footage.placed import PlacedFile
from monitor.footage.report import ClassReport, FileReport, HourReport, Run
from monitor.footage.sampling import sample_file
from monitor.footage.visibility import check_hour
from monitor.manifest import ClassHour, LoadedClass
from monitor.policy import Policy
from monitor.settings import Settings

Progress = Callable[[str, float, float], None]  # (stage, done, total)


def _silent(stage: str, done: float, total: float) -> None:
    return None


@dataclass
class _Clock:
    """Turns wall epoch seconds into datetimes in the class's own UTC offset."""

    tz: tzinfo

    def at(self, wall_s: float) -> datetime:
        return datetime.fromtimestamp(wall_s, self.tz)


def analyze_class(loaded: LoadedClass, on_progress: Progress = _silent, evidence: Path | None = None) -> ClassReport:
    """`evidence`: a folder for the frames that show who was there (faces boxed and named)."""
    manifest, policy = loaded.manifest, loaded.policy
    clock = _Clock(manifest.schedule[0].start.tzinfo)
    roster, without_photo = _enrol_roster(loaded)  # a bad roster photo is an error before any decoding
    class_findings: list[Finding] = []
    file_reports: dict[str, FileReport] = {}  # by manifest path; listed in manifest order at the end

    timelines: list[tuple[str, PacketTimeline, datetime, str]] = []
    for ref in manifest.recordings:
        path = loaded.recording_path(ref)
        try:
            timeline = probe(path)
        except UnreadableMedia as exc:
            file_reports[ref.path] = FileReport(path=ref.path, status="unreadable", reason=str(exc))
            class_findings.append(finding("file.unreadable", message="unreadable", args={"file": ref.path, "why": str(exc)},
                                          start=ref.start, evidence={"file": ref.path}))
            continue
        start, source = (ref.start, "declared") if ref.start else (timeline.creation_time, "container")
        if start is None:
            file_reports[ref.path] = FileReport(path=ref.path, status="unreadable",
                                                reason="no start time: declare one in the manifest")
            class_findings.append(finding("file.start_unknown", evidence={"file": ref.path},
                                          message="no_start", args={"file": ref.path}))
            continue
        timelines.append((ref.path, timeline, start, source))

    total_s = sum(t.end_s - t.first_s for _, t, _, _ in timelines) or 1.0
    done_s = 0.0
    placed: list[PlacedFile] = []
    for name, timeline, start, source in timelines:
        def report(media_done: float, base: float = done_s) -> None:
            on_progress("sampling", base + media_done, total_s)

        try:
            samples, clock_track, focus = sample_file(timeline, policy, report)
        except UnreadableMedia as exc:
            file_reports[name] = FileReport(path=name, status="unreadable", reason=str(exc))
            class_findings.append(finding("file.unreadable", message="unreadable", args={"file": name, "why": str(exc)},
                                          evidence={"file": name}))
            continue
        done_s += timeline.end_s - timeline.first_s
        on_progress("sampling", done_s, total_s)
        pf = PlacedFile(name=name, timeline=timeline, samples=samples, wall_start=start, start_source=source,
                        clock=clock_track, sharpness=focus)
        placed.append(pf)
        if timeline.truncated:
            class_findings.append(finding(
                "file.unreadable", message="truncated", args={"file": name, "why": timeline.truncated},
                start=clock.at(pf.wall_end), evidence={"file": name, "media_s": round(timeline.end_s, 3)},
            ))
        file_reports[name] = FileReport(
            path=name, status="analysed", start=clock.at(pf.wall_begin), end=clock.at(pf.wall_end),
            start_source=source, duration_s=round(timeline.end_s - timeline.first_s, 3), codec=timeline.codec,
            width=timeline.width, height=timeline.height, sampling=samples.mode, samples=len(samples),
            clock=clock_track.note,
        )

    detectors = [make(policy) for make in registry()]
    signals = ClassSignals.of(placed, policy, clock.tz)
    by_path = {pf.path: pf for pf in placed}
    events: list[tuple[PlacedFile, FootageEvent]] = []
    on_progress("detecting", 0, len(detectors))
    for n, detector in enumerate(detectors):
        events.extend((by_path[e.path], e) for e in detector.detect(signals))
        on_progress("detecting", n + 1, len(detectors))

    event_findings = [(pf.wall(e.start_s), pf.wall(e.end_s), _event_finding(pf, e, by_path, clock))
                      for pf, e in events]
    coverage = iv.merge([seg for pf in placed for seg in _segments(pf, policy)], bridge_s=policy.gap_tolerance_s)
    located = event_findings + _gap_findings(placed, coverage, manifest.schedule, policy, clock)
    class_findings += _overlap_findings(placed, policy, clock)

    invalid = [(pf.wall(e.start_s), pf.wall(e.end_s)) for pf, e in events if e.invalidates_footage]
    hours = [_judge_hour(hour, coverage, invalid, located, policy, clock) for hour in manifest.schedule]
    if roster:
        names = {t.id: t.name for t in manifest.roster}
        for n, (hour, report) in enumerate(zip(manifest.schedule, hours)):
            on_progress("checking faces", n, len(hours))
            runs = iv.clip(iv.subtract(coverage, invalid), hour.start.timestamp(), hour.end.timestamp())
            visibility, found = check_hour(hour.start, hour.end, runs, placed, roster, without_photo, names, policy,
                                           evidence, hour.index)
            findings = report.findings + found
            hours[n] = report.model_copy(update={"visibility": visibility, "findings": findings,
                                                 "verdict": verdict_of(findings)})
    elif manifest.roster:
        hours = [_unverifiable(hour, report, len(manifest.roster), policy) for hour, report in zip(manifest.schedule, hours)]
    in_no_hour = [f for a, b, f in located
                  if not any(_in_hour((a, b), f, h, policy) for h in manifest.schedule)]
    # Each finding cites the judging profile's own clause (Sanmenxia's are 004's).
    hours = [h.model_copy(update={"findings": cited(h.findings, policy.clauses)}) for h in hours]
    return ClassReport(
        class_id=manifest.class_id, policy=policy.name, policy_overrides=manifest.policy_overrides,
        hours=hours, findings=cited(class_findings + in_no_hour, policy.clauses),
        files=[file_reports[name] for name in dict.fromkeys(r.path for r in manifest.recordings)],
    )


def _unverifiable(hour: ClassHour, report: HourReport, trainees: int, policy: Policy) -> HourReport:
    """No roster photo at all: who attends cannot be checked. Missing evidence is a finding, never
    a check switched off (it invalidates where the profile requires every trainee visible)."""
    found = finding("visibility.unverifiable", start=hour.start, end=hour.end, measured=0, threshold=trainees,
                    severity=Severity.INVALIDATES if policy.all_trainees_visible else Severity.REVIEW,
                    message="no_photos", args={"n": trainees})
    findings = report.findings + [found]
    return report.model_copy(update={"findings": findings, "verdict": verdict_of(findings)})


def _enrol_roster(loaded: LoadedClass) -> tuple[list[Enrolled], list[str]]:
    """Encodings of the roster's enrolment photos (cached by sha256), and who has no photo.
    Without any photo there is nothing to identify, and the visibility check is skipped."""
    trainees = loaded.manifest.roster
    if not any(t.photo for t in trainees):
        return [], []
    cache = EncodingCache(Settings().cache_dir)
    roster = [enrol(t.id, t.name, loaded.base_dir / t.photo, cache, loaded.policy.enrolment_min_face_px)
              for t in trainees if t.photo]
    return roster, [t.id for t in trainees if not t.photo]


def _segments(pf: PlacedFile, policy: Policy) -> list[iv.Interval]:
    """Wall intervals a file has footage for, split at timestamp holes longer than the tolerance."""
    times = pf.timeline.times_s
    breaks = np.flatnonzero(np.diff(times) > policy.gap_tolerance_s)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [times.size - 1]])
    step = pf.timeline.frame_duration_s
    return [(pf.wall(times[a]), pf.wall(times[b] + step)) for a, b in zip(starts, ends)]


def _frame_ref(pf: PlacedFile, media_s: float) -> dict[str, Any]:
    return {"file": pf.name, "media_s": round(float(media_s), 3)}


def _event_finding(pf: PlacedFile, e: FootageEvent, by_path: dict[Path, PlacedFile], clock: _Clock) -> Finding:
    frames = [_frame_ref(by_path[path], media_s) for path, media_s in e.evidence_frames]
    return finding(
        e.rule, start=clock.at(pf.wall(e.start_s)), end=clock.at(pf.wall(e.end_s)),
        measured=e.measured, threshold=e.threshold, detail=e.detail, message=e.message, args=e.args,
        evidence={"file": pf.name, "media_start_s": round(e.start_s, 3), "media_end_s": round(e.end_s, 3),
                  "frames": frames, **e.evidence},
    )


def _gap_findings(placed: list[PlacedFile], coverage: list[iv.Interval], schedule: list[ClassHour],
                  policy: Policy, clock: _Clock) -> list[tuple[float, float, Finding]]:
    """Every hole in the class's footage longer than the tolerance, within the span of the
    schedule and the recordings, with the footage on either side as evidence."""
    starts = [h.start.timestamp() for h in schedule] + [a for a, _ in coverage]
    ends = [h.end.timestamp() for h in schedule] + [b for _, b in coverage]
    out = []
    for a, b in iv.holes(coverage, min(starts), max(ends)):
        if b - a <= policy.gap_tolerance_s:
            continue
        evidence: dict[str, Any] = {}
        before = [pf for pf in placed if abs(pf.wall_end - a) < 1e-3 or pf.wall_begin < a < pf.wall_end + 1e-3]
        after = [pf for pf in placed if abs(pf.wall_begin - b) < 1e-3 or pf.wall_begin - 1e-3 < b < pf.wall_end]
        if before:
            evidence["before"] = _frame_ref(before[0], before[0].media(a))
        if after:
            evidence["after"] = _frame_ref(after[0], after[0].media(b))
        out.append((a, b, finding(
            "footage.gap", start=clock.at(a), end=clock.at(b), measured=round(b - a, 2),
            threshold=policy.gap_tolerance_s, message="hole", args={"seconds": b - a}, evidence=evidence,
        )))
    return out


def _overlap_findings(placed: list[PlacedFile], policy: Policy, clock: _Clock) -> list[Finding]:
    out = []
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            start, end = max(a.wall_begin, b.wall_begin), min(a.wall_end, b.wall_end)
            if end - start > policy.gap_tolerance_s:
                out.append(finding(
                    "footage.overlap", start=clock.at(start), end=clock.at(end), measured=round(end - start, 2),
                    threshold=policy.gap_tolerance_s, message="both", args={"a": a.name, "b": b.name, "seconds": end - start},
                    evidence={"files": [a.name, b.name]},
                ))
    return out


def _in_hour(span: iv.Interval, f: Finding, hour: ClassHour, policy: Policy) -> bool:
    """Whether a located finding belongs to a class hour: a hole only where it takes more than
    `gap_tolerance_s` of the hour (one that ends a second into it is forgiven at the edge, as the
    hour's coverage is: iv.to_edges)."""
    h = (hour.start.timestamp(), hour.end.timestamp())
    return iv.inside(span, h, policy.gap_tolerance_s) if f.rule == "footage.gap" else iv.overlaps(span, h)


def _judge_hour(hour: ClassHour, coverage: list[iv.Interval], invalid: list[iv.Interval],
                located: list[tuple[float, float, Finding]], policy: Policy, clock: _Clock) -> HourReport:
    h0, h1 = hour.start.timestamp(), hour.end.timestamp()
    runs = iv.clip(iv.subtract(iv.to_edges(coverage, h0, h1, policy.gap_tolerance_s), invalid), h0, h1)
    longest = max((b - a for a, b in runs), default=0.0)
    covered = iv.total(runs) / (h1 - h0)
    findings = [f for a, b, f in sorted(located, key=lambda x: x[0]) if _in_hour((a, b), f, hour, policy)]
    if hour.kind == "practical" and longest < policy.practical_min_continuous_s:
        findings.append(finding(
            "practical.continuity", start=hour.start, end=hour.end, measured=round(longest, 2),
            threshold=policy.practical_min_continuous_s,
            message="short", args={"longest_min": longest / 60, "required_min": policy.practical_min_continuous_s / 60},
        ))
    if hour.kind == "theory" and covered < policy.theory_min_coverage - 1e-9:
        findings.append(finding(
            "theory.coverage", start=hour.start, end=hour.end, measured=round(covered, 4),
            threshold=policy.theory_min_coverage,
            message="short", args={"covered": covered, "required": policy.theory_min_coverage},
        ))
    return HourReport(
        index=hour.index, kind=hour.kind, start=hour.start, end=hour.end, verdict=verdict_of(findings),
        longest_continuous_s=round(longest, 2), coverage=round(min(covered, 1.0), 4),
        runs=[Run(start=clock.at(a), end=clock.at(b), duration_s=round(b - a, 2)) for a, b in runs],
        findings=findings,
    )
