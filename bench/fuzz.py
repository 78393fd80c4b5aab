"""The long run of the readers' fuzz targets (issue #7; tests/monitor/fuzzing.py states them):
the event parser (with the columnar reader held to the line-by-line one) and the class manifest
reader, each for a time budget, fresh random inputs every round. Prints how many inputs each
target was given and the failures (target 0; a failure prints hypothesis's smallest example).

Run: .venv/bin/python bench/fuzz.py [SECONDS_PER_TARGET]   (default 180)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.monitor.fuzzing import check_event_file, check_manifest, event_files, manifests  # noqa: E402

ROUND = settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def run(name: str, strategy, check, budget_s: float) -> int:  # type: ignore[no-untyped-def]
    tried = 0

    @ROUND
    @given(data=strategy())
    def target(data) -> None:  # type: ignore[no-untyped-def]
        nonlocal tried
        tried += 1
        with tempfile.TemporaryDirectory() as folder:
            check(data, Path(folder))

    began = time.perf_counter()
    failures = 0
    while time.perf_counter() - began < budget_s:
        try:
            target()
        except Exception as exc:  # a failure: hypothesis has printed the smallest example
            failures += 1
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}"[:500], flush=True)
    print(f"{name}: {tried:,} inputs in {time.perf_counter() - began:.0f} s, {failures} failures", flush=True)
    return failures


def main() -> None:
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
    failures = run("event parser (line by line and columnar)", event_files, check_event_file, budget)
    failures += run("class manifest reader", manifests, check_manifest, budget)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
