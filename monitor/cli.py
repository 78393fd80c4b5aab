"""`monitor`: the command line over the analysis core. A thin layer: reading arguments, showing
progress and printing reports; every decision is made in the library, so the CLI gives the
verdict the server stores."""

from __future__ import annotations

import json as json_module
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Callable, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.attendance import class_period, hours_of_report
from monitor.errors import MonitorError
from monitor.findings import RULES, Verdict
from monitor.footage.analyze import analyze_class
from monitor.footage.report import ClassReport
from monitor.manifest import load_class
from monitor.online.catalogue import load_catalogue
from monitor.online.engine import OnlineReport, judge_file
from monitor.policy import load_policy, profile_names
from sample_videos.make_sample import FACE_ROSTER, SEATED, SHARED_FACES, make_sample_class
from sample_videos.online_day import write_day

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="The training monitor: judges from evidence whether subsidised training happened.")
out = Console(soft_wrap=True)
if not out.is_terminal:
    out = Console(soft_wrap=True, width=160)  # piped output: no terminal width to fit, keep rows whole
err = Console(stderr=True)

_VERDICT_STYLE = {Verdict.VALID: "green", Verdict.INVALID: "bold red", Verdict.REVIEW: "yellow"}


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")  # one line, whatever the message holds
    raise typer.Exit(code=2)


def _guarded(work: Callable[[], None]) -> None:
    """Run a command so that bad input is one clear line and nothing else ever shows a traceback."""
    try:
        work()
    except MonitorError as exc:
        _fail(str(exc))
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # the promise: no stack trace reaches a user
        _fail(f"internal error ({type(exc).__name__}: {exc}); please report it with the input that caused it")


def _analyze_with_progress(manifest: Path, evidence: Path | None = None) -> ClassReport:
    loaded = load_class(manifest)
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, done: float, total: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        return analyze_class(loaded, on_progress=update, evidence=evidence)


def _clock(value) -> str:
    return value.strftime("%H:%M:%S") if value else "—"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def print_report(report: ClassReport) -> None:
    """The human-readable report: one row per class hour, then class-level findings and files."""
    day = f" · {report.hours[0].start:%Y-%m-%d}" if report.hours else ""
    table = Table(title=f"Class {report.class_id}{day} · policy {report.policy}")
    for column in ("hour", "kind", "scheduled", "verdict", "longest run", "coverage"):
        table.add_column(column, no_wrap=True)
    table.add_column("findings", no_wrap=True)
    for hour in report.hours:
        table.add_row(
            str(hour.index), hour.kind, f"{hour.start:%H:%M}–{hour.end:%H:%M}",
            f"[{_VERDICT_STYLE[hour.verdict]}]{hour.verdict.value}[/]", _minutes(hour.longest_continuous_s),
            f"{hour.coverage:.0%}", str(len(hour.findings)) if hour.findings else "—",
        )
    out.print(table)
    for hour in report.hours:
        for f in hour.findings:
            out.print(f"  hour {hour.index}  {f.rule:<22} {f.clause:<10} {_clock(f.start)}–{_clock(f.end)}  "
                      f"{f.detail}  ({RULES[f.rule].title_zh})", markup=False, highlight=False)
    for f in report.findings:
        out.print(f"  class   {f.rule:<22} {f.clause:<10} {f.detail}  ({RULES[f.rule].title_zh})",
                  markup=False, highlight=False)
    for fr in report.files:
        if fr.status == "analysed":
            out.print(f"  file    {fr.path}: {_clock(fr.start)}–{_clock(fr.end)} ({fr.start_source} start), "
                      f"{fr.width}×{fr.height} {fr.codec}, {fr.samples} samples at {fr.sampling}",
                      markup=False, highlight=False)
        else:
            out.print(f"  file    {fr.path}: unreadable — {fr.reason}", markup=False, highlight=False)


def print_period(report: ClassReport, manifest: Path) -> None:
    """The class period (POLICY A3, A4; monitor/attendance.py): attendance per trainee and the
    subsidisable headcount from the report's check moments (the footage's only: on-site checks
    and accepted leaves are the service's)."""
    loaded = load_class(manifest)
    names = {t.id: t.name for t in loaded.manifest.roster}
    if not names or not any(h.visibility for h in report.hours):
        return
    period = class_period(names, hours_of_report(report.model_dump(mode="json")), [], [], loaded.policy, names)
    table = Table(title="Attendance per trainee (check moments seen)")
    for column in ("trainee", "name", "seen", "rate", "hours absent"):
        table.add_column(column, no_wrap=True)
    for t in period.trainees:
        table.add_row(t.trainee, names.get(t.trainee, ""), f"{t.moments_seen}/{t.moments_checked}",
                      "—" if t.rate is None else f"{t.rate:.0%}", ", ".join(map(str, t.hours_absent)) or "—")
    out.print(table)
    h = period.headcount
    out.print(f"  headcount: roster {h.roster}, present at the opening {h.opening if h.opening is not None else '—'}, "
              f"mean present at {len(h.series)} checks {'—' if h.mean_present is None else f'{h.mean_present:.2f}'}, "
              f"subsidisable {'—' if h.subsidisable is None else f'{h.subsidisable:.2f}'} (the lower of the two)",
              markup=False, highlight=False)
    for f in period.findings:
        out.print(f"  period  {f.rule:<26} {f.clause:<10} {f.detail}  ({RULES[f.rule].title_zh})", markup=False,
                  highlight=False)


def _what_if(profile: str, overrides: dict[str, object]) -> dict[str, object]:
    """What a report judged with overrides of the user's own (a manifest's, or --set) says of
    itself: not the official judgement."""
    return {"official": False, "profile": profile,
            "overrides": [{"parameters": overrides, "person": "the user (what-if)", "reason": "what-if analysis"}],
            "note": "judged with the user's own overrides: not the official judgement, which is the "
                    "jurisdiction's profile in force with the authority's overrides"}


@app.command()
def analyze(
    manifest: Annotated[Path, typer.Argument(help="The class manifest (JSON); paths in it are relative to it.")],
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
    evidence: Annotated[Path | None, typer.Option(help="Keep a few frames per hour (faces boxed and named) in this folder.")] = None,
) -> None:
    """Judge every class hour of a recorded class (POLICY A1, A2; A3, A4 when the roster has photos)."""

    def work() -> None:
        report = _analyze_with_progress(manifest, evidence)
        if json:
            body = report.model_dump(mode="json")
            if report.policy_overrides:
                body["judged_by"] = _what_if(report.policy, report.policy_overrides)
            sys.stdout.write(json_module.dumps(body, indent=2, ensure_ascii=False) + "\n")
        else:
            print_report(report)
            print_period(report, manifest)
            if report.policy_overrides:
                err.print(f"what-if: judged with the manifest's own overrides ({', '.join(sorted(report.policy_overrides))}); "
                          "not the official judgement, which is the jurisdiction's profile with the authority's overrides",
                          markup=False)

    _guarded(work)


def _parse_settings(pairs: list[str]) -> dict[str, object]:
    """--set NAME=VALUE pairs; values are read as JSON where they can be (numbers, true/false)."""
    settings: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise MonitorError(f"--set takes NAME=VALUE, got {pair!r}")
        try:
            settings[name.strip()] = json_module.loads(raw)
        except ValueError:
            settings[name.strip()] = raw
    return settings


def _duration(seconds: float) -> str:
    return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"


def print_online(report: OnlineReport, only_flagged: bool = False) -> None:
    """One row per learner session (or per flagged one), then what was rejected (line numbers,
    first few) and totals."""
    table = Table(title="Flagged learner sessions" if only_flagged else "Learner sessions")
    for column in ("learner", "session", "platform", "course", "verdict", "credited", "findings"):
        table.add_column(column, no_wrap=True)
    for s in report.sessions:
        if only_flagged and s.verdict is Verdict.VALID:
            continue
        table.add_row(s.learner, s.session, s.platform, s.course, f"[{_VERDICT_STYLE[s.verdict]}]{s.verdict.value}[/]",
                      _duration(s.credited_s), ", ".join(sorted({f.rule.removeprefix("online.") for f in s.findings})) or "—")
    out.print(table)
    counts = {v: sum(1 for s in report.sessions if s.verdict is v) for v in Verdict}
    out.print(f"{len(report.sessions)} sessions: {counts[Verdict.VALID]} valid, {counts[Verdict.INVALID]} invalid, "
              f"{counts[Verdict.REVIEW]} for review; {report.duplicates} re-sent events counted once, "
              f"{report.ignored} xAPI statements ignored", markup=False, highlight=False)
    if report.rejected:
        out.print(f"{len(report.rejected)} records rejected, the first {min(5, len(report.rejected))}:",
                  markup=False, highlight=False)
        for r in report.rejected[:5]:
            who = f"event {r.event_id}" if r.event_id else "record"
            out.print(f"  line {r.line}: {who}: {r.field}: {r.message}", markup=False, highlight=False)
    for note in report.notes:
        out.print(f"note: {note}", markup=False, highlight=False)


@app.command()
def online(
    events: Annotated[Path, typer.Argument(help="Learning events: JSON lines of native events and/or xAPI statements, a JSON array, or an LRS export ({\"statements\": [...]}), as a player or an LRS wrote them.")],
    courses: Annotated[Path | None, typer.Option(help="Course catalogue (JSON): unit order, hours, occupation.")] = None,
    history: Annotated[Path | None, typer.Option(help="Learners' earlier courses and assessment dates (JSON).")] = None,
    policy_name: Annotated[str, typer.Option("--policy", help="Policy profile.")] = "zhengzhou-2022",
    settings: Annotated[list[str] | None, typer.Option("--set", help="Override a policy parameter: NAME=VALUE (repeatable).")] = None,
    platform: Annotated[str | None, typer.Option(help="Platform of xAPI statements that do not name one (default: the file's name without its extension).")] = None,
    enrolment: Annotated[Path | None, typer.Option(help="Learners' enrolment photos (JSON: learner id -> photo path): turns on the face checks.")] = None,
    challenges: Annotated[Path | None, typer.Option(help="Face-check challenges handed out (JSON list of learner, session, at, prompt, nonce): captures must answer them.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Judge every learner session of a platform's event stream (POLICY B1-B8)."""

    def work() -> None:
        policy = load_policy(policy_name, _parse_settings(settings or []))
        faces = None
        if enrolment is not None:
            from monitor.faces.cache import FacesCache
            from monitor.faces.challenge import load_challenges
            from monitor.faces.enrol import EncodingCache
            from monitor.online.faces import FaceChecks, load_enrolment
            from monitor.settings import Settings

            faces = FaceChecks(policy, load_enrolment(enrolment), events.resolve().parent,
                               EncodingCache(Settings().cache_dir), FacesCache(Settings().cache_dir),
                               load_challenges(challenges) if challenges is not None else ())
        elif challenges is not None:
            raise MonitorError("--challenges needs --enrolment: challenges are answered by face captures")
        report = judge_file(events, policy, load_catalogue(courses, history), platform, faces)
        overrides = _parse_settings(settings or [])
        if json:
            body = report.model_dump(mode="json")
            if overrides:
                body["judged_by"] = _what_if(policy_name, overrides)
            sys.stdout.write(json_module.dumps(body, indent=2, ensure_ascii=False) + "\n")
        else:
            print_online(report)
            if overrides:
                err.print(f"what-if: judged with --set {', '.join(sorted(overrides))}; not the official judgement, "
                          "which is the jurisdiction's profile with the authority's overrides", markup=False)

    _guarded(work)


def faces_for_demo(faces: Path | None) -> Path | None:
    """The folder of real faces the demo's sample class takes its roster photos from (`faces`, else
    ../shared/data/faces where present), said plainly either way; None: a class without a roster."""
    if faces is not None and not faces.is_dir():
        raise MonitorError(f"no folder of faces at {faces}")
    folder = faces if faces is not None else SHARED_FACES
    if not folder.is_dir():
        err.print(f"no roster photos: the real faces are not at {folder} (../shared/data is not beside this "
                  "checkout), so the sample class has no roster and who attended is not checked; "
                  "--faces DIR gives a folder of them", markup=False)
        return None
    err.print(f"roster photos from {folder}: {len(FACE_ROSTER)} trainees enrolled, {len(SEATED)} of them in the room",
              markup=False)
    return folder


@app.command()
def demo(
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write the sample class (default: a temporary folder).")] = None,
    faces: Annotated[Path | None, typer.Option(
        "--faces", help="A folder of real faces (person/photo.jpg) for the class's roster photos and the trainees in the "
                        "room (default: ../shared/data/faces beside the checkout, where present).")] = None,
) -> None:
    """Make the sample class (one tampered hour) and a platform's day (a few violations of each
    online rule) and judge both. With real faces the class has a roster with photos, and who
    attended and the headcount are checked; without them, only the footage."""

    def work() -> None:
        folder = faces_for_demo(faces)
        target = out_dir or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
        err.print(f"making the sample class in {target} …")
        manifest = make_sample_class(target, folder)
        report = _analyze_with_progress(manifest)
        print_report(report)
        print_period(report, manifest)
        err.print(f"making a sample day of an e-learning platform in {target / 'online'} …")
        day = write_day(target / "online")
        report = judge_file(day["events"], load_policy("zhengzhou-2022"), load_catalogue(day["courses"], day["history"]))
        out.print()
        print_online(report, only_flagged=True)

    _guarded(work)


@app.command()
def policy(
    name: Annotated[str | None, typer.Argument(help="A profile name; without one, list the profiles.")] = None,
) -> None:
    """Show the policy profiles and their parameters."""

    def work() -> None:
        if name is None:
            for profile in profile_names():
                out.print(profile)
            return
        for key, value in load_policy(name).model_dump().items():
            out.print(f"{key} = {value}", markup=False, highlight=False)

    _guarded(work)


def main() -> None:  # pragma: no cover - console entry point
    app()
