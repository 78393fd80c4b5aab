"""Missing evidence is a finding, never a check switched off (issue #14): a roster without
photos cannot show who attended, so every hour says so (and is invalid where the profile
requires every trainee visible)."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.findings import Severity, Verdict
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.make_sample import ROSTER, make_sample_class


def _with_roster(folder: Path, policy: str) -> Path:
    path = make_sample_class(folder)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "roster": ROSTER, "policy": policy}, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_roster_without_photos_makes_every_hour_unverifiable(tmp_path: Path) -> None:
    report = analyze_class(load_class(_with_roster(tmp_path, "demo-short")))
    for hour in report.hours:
        found = [f for f in hour.findings if f.rule == "visibility.unverifiable"]
        assert len(found) == 1 and found[0].severity == Severity.INVALIDATES and found[0].threshold == len(ROSTER)
        assert hour.verdict == Verdict.INVALID
    # Without a roster there is no one to verify: the footage alone decides (the demo's sample).
    plain = analyze_class(load_class(make_sample_class(tmp_path / "plain")))
    assert not any(f.rule == "visibility.unverifiable" for h in plain.hours for f in h.findings)
