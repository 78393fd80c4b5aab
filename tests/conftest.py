"""Shared test set-up: where the real media lives, and the rule that CI never skips it."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CST = timezone(timedelta(hours=8))
CLASS_START = datetime(2026, 11, 20, 8, 0, 0, tzinfo=CST)


# The daily retention job is queued by the workers themselves (api/jobs/retention.py): off in
# the tests' services and servers (this environment is inherited), so that no test sees a job or
# an audit entry it did not cause; tests/api/test_retention_timer.py turns it on.
os.environ.setdefault("MONITOR_RETENTION_TIMER", "false")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(message: str) -> None:
    """Something a test needs is absent: skip with the reason, or fail in CI, where it must run."""
    if _in_ci():
        pytest.fail(message + "; CI must run these tests")
    pytest.skip(message)


FACE_RECOGNITION_IMAGES = Path(__file__).resolve().parent / ".data" / "face_recognition"


@pytest.fixture(scope="session")
def fr_images() -> Path:
    """face_recognition 1.3.0's own test photos, fetched from PyPI by `make testdata`."""
    if not (FACE_RECOGNITION_IMAGES / "obama_partial_face.jpg").is_file():
        missing(f"face_recognition's test photos not found in {FACE_RECOGNITION_IMAGES} (run `make testdata`)")
    return FACE_RECOGNITION_IMAGES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, the real media. Absent on a bare clone: skip with the reason; absent in CI:
    fail, because there the real-data tests must run."""
    if not (SHARED_DATA / "videos").is_dir():
        missing(f"real test media not found at {SHARED_DATA} (../shared/data beside the checkout)")
    return SHARED_DATA


def write_manifest(folder: Path, recordings: list[dict[str, Any]], hours: list[tuple[str, float, float]],
                   **extra: Any) -> Path:
    """A class manifest with hours given as (kind, start, end) in seconds after CLASS_START."""
    overrides = {"class_hour_min_s": 1, "practical_share_min": 0, **extra.pop("policy_overrides", {})}
    manifest = {
        "class_id": extra.pop("class_id", "TEST-1"),
        "policy": extra.pop("policy", "zhengzhou-2022"),
        "policy_overrides": overrides,
        "schedule": [
            {"index": n, "kind": kind,
             "start": (CLASS_START + timedelta(seconds=a)).isoformat(),
             "end": (CLASS_START + timedelta(seconds=b)).isoformat()}
            for n, (kind, a, b) in enumerate(hours, start=1)
        ],
        "recordings": recordings,
        "teachers": extra.pop("teachers", [{"id": "E-01", "name": "赵老师"}]),  # a class without one is refused (A5)
        **extra,
    }
    path = folder / "class.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return path


def at(seconds: float) -> str:
    """ISO instant `seconds` after CLASS_START, for manifests."""
    return (CLASS_START + timedelta(seconds=seconds)).isoformat()


def offset_of(instant: datetime) -> float:
    """Seconds after CLASS_START of a report's instant."""
    return (instant - CLASS_START).total_seconds()
