"""A short run of the readers' fuzz targets (tests/monitor/fuzzing.py) in every test run; the
long run is bench/fuzz.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.monitor.fuzzing import check_event_file, check_manifest, event_files, manifests

SHORT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SHORT
@given(data=event_files())
def test_any_event_file_is_read_without_error_and_both_readers_agree(data: bytes) -> None:
    check_event_file(data, Path(tempfile.gettempdir()))


@SHORT
@given(data=manifests())
def test_any_manifest_is_read_or_refused_with_one_clear_error(data) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        check_manifest(data, Path(folder))
