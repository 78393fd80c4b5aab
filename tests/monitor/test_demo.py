"""The demo's sample class (#17): with ../shared/data's real faces it has a roster with photos and
the analysis checks who attended and counts the headcount; without them it says so plainly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import monitor.cli as cli
from monitor.attendance import class_period, hours_of_report
from monitor.cli import app
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.make_sample import make_sample_class


def _rules(hour) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.rule for f in hour.findings}


def test_the_sample_class_with_real_faces_shows_who_attended(shared_data: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    loaded = load_class(make_sample_class(tmp_path / "class", shared_data / "faces"))
    assert [t.id for t in loaded.manifest.roster] == ["T-1", "T-2", "T-3", "T-4"] and all(t.photo for t in loaded.manifest.roster)
    report = analyze_class(loaded)
    # the footage is judged as without faces: hour 2's loop and freeze invalidate it
    assert [h.verdict.value for h in report.hours] == ["review", "invalid", "review"]
    assert {"footage.loop", "footage.freeze", "practical.continuity"} <= _rules(report.hours[1])
    for hour in report.hours:  # the three seated trainees identified at every check moment, T-4 never
        assert hour.visibility is not None and hour.visibility.moments
        assert all(m.present == ["T-1", "T-2", "T-3"] and m.unknown == 0 for m in hour.visibility.moments), hour.visibility
        assert hour.visibility.missing == ["T-4"] and "visibility.unverifiable" not in _rules(hour)
    names = {t.id: t.name for t in loaded.manifest.roster}
    period = class_period(names, hours_of_report(report.model_dump(mode="json")), [], [], loaded.policy, names)
    assert (period.headcount.roster, period.headcount.opening, period.headcount.subsidisable) == (4, 3, 3.0)
    assert [f.evidence["trainee"] for f in period.findings if f.rule == "visibility.trainee_absent"] == ["T-4"]


def test_the_demo_says_plainly_when_there_are_no_faces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "SHARED_FACES", tmp_path / "nowhere" / "faces")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "no roster photos: the real faces are not at" in said and "who attended is not checked" in said
    assert "Attendance per trainee" not in said and "footage.loop" in said  # the footage judged all the same
    wrong = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo2"), "--faces", str(tmp_path / "missing")])
    assert wrong.exit_code != 0 and "no folder of faces at" in " ".join(wrong.output.split())
