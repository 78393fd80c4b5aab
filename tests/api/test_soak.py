"""One minute of bench/soak.py in every test run: `monitor serve` in its own process fed 1,000
events a second with recordings uploaded alongside; every acknowledged event and recording is
stored exactly once, nothing errs. (The ten-minute run and its figures: bench/soak.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import soak


@pytest.mark.slow  # a long run: `make test` runs it after the main suite (see the Makefile)
def test_a_minute_at_a_thousand_events_a_second_loses_and_doubles_nothing(tmp_path: Path) -> None:
    result = soak(60, 1000, tmp_path)
    print(result.report())
    assert result.errors == []
    assert result.stored_events == result.accepted == result.sent  # fresh ids: every one new, stored once
    assert result.stored_recordings == result.uploads >= 3
    assert result.rate >= 500, result.report()  # half the target: a collapse, not the noise of a shared machine
