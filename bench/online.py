"""Benchmark of the online engine (issues #8 and #20).

On a generated platform day of at least a million events (6,700 learners, made once under
bench/out/online/ by a child process, never committed), in one run: events per second for
 (a) the rules on already-parsed events (target >= 500,000/s): the engine judging the day's
     partitions (columnar.partition_clean: the file's clean lines as Arrow, bucketed by learner
     into temporary files), one partition at a time, as judge_file does;
 (b) end to end from the JSON-lines file, parsing included (target >= 150,000/s);
each with the process's CPU time beside it (a neighbour's load on this shared machine moves it
least); and the peak RSS against its target (<= 500 MB, issue #20), over the whole run and within
each of (a) and (b). The baseline of the ratios is the target itself (no other tool judges B1-B8).
`--whole` runs (a) and (b) as they ran before #20 (the day's table and one engine holding all of
it), for the figures of both in the same conditions (run it as its own process: its peak is its own).

Run: .venv/bin/python bench/online.py [LEARNERS] [--whole]
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.online.catalogue import Catalogue, load_catalogue  # noqa: E402
from monitor.online.columnar import partition_clean, read_clean  # noqa: E402
from monitor.online.engine import OnlineEngine, judge_file, judge_partitions  # noqa: E402
from monitor.policy import Policy, load_policy  # noqa: E402

OUT = ROOT / "bench" / "out" / "online"
RSS_TARGET_MB = 500
Timed = tuple[float, float, int, int]  # seconds, CPU seconds of this process, sessions, learners read one by one
Run = Callable[[], Timed]


def _reset_peak() -> bool:
    """Linux: start VmHWM (the peak RSS) again from the current RSS (proc(5), clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _runs(run: Run) -> tuple[list[Timed], float | None]:
    """Three runs (the first of a process pays for fresh memory pages; the median is what a
    long-running service sees) and the peak RSS within them."""
    fresh = _reset_peak()
    runs = [run() for _ in range(3)]
    return runs, _peak_mb() if fresh else None


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    whole = "--whole" in sys.argv
    learners = int(args[0]) if args else 6700
    marker = OUT / f"made-{learners}"
    if not marker.exists():
        print(f"making a platform day of {learners} learners under {OUT} …", flush=True)
        subprocess.run([sys.executable, "-m", "sample_videos.online_day", str(OUT), str(learners)], cwd=ROOT,
                       check=True)
        marker.touch()
    events_path = OUT / "events.jsonl"
    policy = load_policy("zhengzhou-2022")
    catalogue = load_catalogue(OUT / "courses.json", OUT / "history.json")
    if whole:
        rules, end_to_end, n, parse_s, parts_note = _whole(events_path, policy, catalogue)
    else:
        began = time.perf_counter()
        parts = partition_clean(events_path)
        parse_s = time.perf_counter() - began
        assert parts is not None, "the generated day is clean: it should be read into partitions"
        n = parts.rows - parts.duplicates
        parts_note = (f"{len(parts.paths)} partitions of {min(parts.sizes):,}-{max(parts.sizes):,} events "
                      "(parsing alone: read, checked and bucketed into them)")

        def rules() -> Timed:
            began, cpu = time.perf_counter(), time.process_time()
            judged = judge_partitions(parts, policy, catalogue)
            return (time.perf_counter() - began, time.process_time() - cpu, len(judged.sessions),
                    judged.fully_read_learners)

        def end_to_end() -> Timed:
            began, cpu = time.perf_counter(), time.process_time()
            report = judge_file(events_path, policy, catalogue)
            return time.perf_counter() - began, time.process_time() - cpu, len(report.sessions), 0

    rule_runs, rules_peak = _runs(rules)
    end_runs, end_peak = _runs(end_to_end)
    sessions, fully_read = rule_runs[0][2], rule_runs[0][3]
    assert all(run[2] == sessions for run in rule_runs + end_runs)
    rules_s, rules_cpu = (statistics.median(run[k] for run in rule_runs) for k in (0, 1))
    end_to_end_s, end_cpu = (statistics.median(run[k] for run in end_runs) for k in (0, 1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    planted = json.loads((OUT / "planted.json").read_text())
    print(f"{'ALL AT ONCE (--whole): ' if whole else ''}{n:,} events, {sessions:,} sessions, "
          f"{len(planted)} learners with a planted violation; {parts_note}")
    print(f"the screen sent {fully_read} learners' events to the rules one by one")
    print(f"(a) rules on parsed events: {n / rules_s:,.0f} events/s ({rules_s:.2f} s, median of 3; "
          f"first {n / rule_runs[0][0]:,.0f}/s)   target 500,000/s: ratio {n / rules_s / 500_000:.2f}")
    print(f"    CPU: {rules_cpu:.2f} s, {n / rules_cpu:,.0f} events a CPU-second (what a neighbour's load moves least)")
    print(f"    parsing alone: {n / parse_s:,.0f} events/s ({parse_s:.2f} s)")
    print(f"(b) end to end from JSONL: {n / end_to_end_s:,.0f} events/s ({end_to_end_s:.2f} s, median of 3; "
          f"first {n / end_runs[0][0]:,.0f}/s)   "
          f"target 150,000/s: ratio {n / end_to_end_s / 150_000:.2f}")
    print(f"    CPU: {end_cpu:.2f} s, {n / end_cpu:,.0f} events a CPU-second (the parser runs on both cores)")
    within = (f"; within (a) {rules_peak:.0f} MB, within (b) {end_peak:.0f} MB"
              if rules_peak is not None and end_peak is not None else "")
    print(f"peak RSS: {peak:.0f} MB ({peak * 1024 * 1024 / n:,.0f} bytes an event), "
          f"target {RSS_TARGET_MB} MB: ratio {peak / RSS_TARGET_MB:.2f}{within}")


def _whole(events_path: Path, policy: Policy, catalogue: Catalogue) -> tuple[Run, Run, int, float, str]:
    """(a) and (b) as before #20: the day's table read whole, one engine judging all of it."""
    began = time.perf_counter()
    read = read_clean(events_path.read_bytes())
    parse_s = time.perf_counter() - began
    assert read is not None, "the generated day is clean: it should be read into columns"
    table = read[0]

    def rules() -> Timed:
        began, cpu = time.perf_counter(), time.process_time()
        engine = OnlineEngine(policy, catalogue)
        engine.add_arrow(table)
        sessions = engine.sessions()
        return time.perf_counter() - began, time.process_time() - cpu, len(sessions), engine.fully_read_learners

    def end_to_end() -> Timed:
        began, cpu = time.perf_counter(), time.process_time()
        found = read_clean(events_path.read_bytes())
        assert found is not None
        engine = OnlineEngine(policy, catalogue)
        engine.add_arrow(found[0])
        sessions = len(engine.sessions())
        return time.perf_counter() - began, time.process_time() - cpu, sessions, 0

    return rules, end_to_end, table.num_rows, parse_s, "the day's table whole"


if __name__ == "__main__":
    main()
