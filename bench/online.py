"""Benchmark of the online engine (issue #8).

"Parsed" is the Arrow table columnar.read_clean makes of a clean file (the engine's input form);
(a) is the engine taking it (codes, columns) and judging every session.

On a generated stream of at least a million events (10,000 learner sessions, made once under
bench/out/online/, never committed), in one run: events per second for
 (a) the rules on already-parsed events (target >= 500,000/s), and
 (b) end to end from the JSON-lines file, parsing included (target >= 150,000/s);
and the peak RSS. The baseline of the ratios is the target itself (no other tool judges B1-B8).

Run: .venv/bin/python bench/online.py [LEARNERS]
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.online.catalogue import load_catalogue  # noqa: E402
from monitor.online.engine import OnlineEngine, judge_file  # noqa: E402
from monitor.online.reader import read_events  # noqa: E402
from monitor.policy import load_policy  # noqa: E402
from sample_videos.online_day import write_day  # noqa: E402

OUT = ROOT / "bench" / "out" / "online"


def main() -> None:
    learners = int(sys.argv[1]) if len(sys.argv) > 1 else 6700
    marker = OUT / f"made-{learners}"
    if not marker.exists():
        print(f"making a platform day of {learners} learners under {OUT} …", flush=True)
        write_day(OUT, learners=learners)
        marker.touch()
    paths = {name: OUT / f"{name}.json" for name in ("courses", "history")}
    events_path = OUT / "events.jsonl"
    policy = load_policy("zhengzhou-2022")
    catalogue = load_catalogue(paths["courses"], paths["history"])

    began = time.perf_counter()
    read = read_events(events_path, columnar=True)
    parse_s = time.perf_counter() - began
    assert read.columns is not None, "the generated day is clean: it should be read into columns"
    n = read.columns.num_rows

    def rules() -> tuple[float, list, int]:
        began = time.perf_counter()
        engine = OnlineEngine(policy, catalogue)
        engine.add_arrow(read.columns)
        sessions = engine.sessions()
        return time.perf_counter() - began, sessions, engine.fully_read_learners

    def end_to_end() -> tuple[float, int]:
        began = time.perf_counter()
        report = judge_file(events_path, policy, catalogue)
        return time.perf_counter() - began, len(report.sessions)

    # Three of each: the first run of a process pays for fresh memory pages (glibc maps large
    # arrays afresh until its threshold adapts); the median is what a long-running service sees.
    rule_runs = [rules() for _ in range(3)]
    end_runs = [end_to_end() for _ in range(3)]
    sessions, fully_read = rule_runs[0][1], rule_runs[0][2]
    assert all(count == len(sessions) for _, count in end_runs)
    rules_s = statistics.median(t for t, _, _ in rule_runs)
    end_to_end_s = statistics.median(t for t, _ in end_runs)

    planted = json.loads((OUT / "planted.json").read_text())
    print(f"{n:,} events, {len(sessions):,} sessions, {len(planted)} learners with a planted violation")
    print(f"the screen sent {fully_read} learners' events to the rules one by one")
    print(f"(a) rules on parsed events: {n / rules_s:,.0f} events/s ({rules_s:.2f} s, median of 3; "
          f"first {n / rule_runs[0][0]:,.0f}/s)   target 500,000/s: ratio {n / rules_s / 500_000:.2f}")
    print(f"    parsing alone: {n / parse_s:,.0f} events/s ({parse_s:.2f} s)")
    print(f"(b) end to end from JSONL: {n / end_to_end_s:,.0f} events/s ({end_to_end_s:.2f} s, median of 3; "
          f"first {n / end_runs[0][0]:,.0f}/s)   "
          f"target 150,000/s: ratio {n / end_to_end_s / 150_000:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
