"""The demo's sample class: one tampered hour among clean ones, found and located."""

from __future__ import annotations

import pytest

from monitor.findings import Verdict
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos import make_sample
from tests.conftest import offset_of


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return analyze_class(load_class(make_sample.make_sample_class(tmp_path_factory.mktemp("sample"))))


def test_only_the_tampered_hour_is_invalid(report):
    assert [h.verdict for h in report.hours] == [Verdict.VALID, Verdict.INVALID, Verdict.VALID]
    assert report.findings == []


def test_the_planted_loop_and_freeze_are_located(report):
    by_rule = {f.rule: f for f in report.hours[1].findings}
    assert set(by_rule) == {"footage.loop", "footage.freeze", "practical.continuity"}
    start, end, copied_from = make_sample.LOOP
    loop = by_rule["footage.loop"]
    assert abs(offset_of(loop.start) - start) <= 1 and abs(offset_of(loop.end) - end) <= 1
    assert abs(loop.evidence["lag_s"] - (start - copied_from)) <= 0.2
    freeze = by_rule["footage.freeze"]
    assert abs(offset_of(freeze.start) - make_sample.FREEZE[0]) <= 1
    assert abs(offset_of(freeze.end) - make_sample.FREEZE[1]) <= 1


def test_the_second_file_is_placed_by_its_creation_time(report):
    assert [f.start_source for f in report.files] == ["declared", "container"]
    assert offset_of(report.files[1].start) == pytest.approx(make_sample.FILE2[0], abs=0.05)
