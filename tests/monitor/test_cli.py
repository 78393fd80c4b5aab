"""The CLI as a user meets it: the real `monitor` executable, its exit codes and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.make_sample import make_sample_class

MONITOR = [sys.executable, "-m", "monitor"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*MONITOR, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def sample_class(tmp_path_factory) -> Path:
    return make_sample_class(tmp_path_factory.mktemp("sample"))


def test_analyze_prints_a_table_per_hour(sample_class):
    result = _run("analyze", str(sample_class))
    assert result.returncode == 0, result.stderr
    assert "SAMPLE-2026-1120" in result.stdout
    assert "footage.loop" in result.stdout and "footage.freeze" in result.stdout
    assert "invalid" in result.stdout and "valid" in result.stdout


def test_json_report_is_the_library_report(sample_class):
    result = _run("analyze", str(sample_class), "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    direct = json.loads(analyze_class(load_class(sample_class)).model_dump_json())
    assert printed == direct
    assert set(printed) == {"class_id", "policy", "policy_overrides", "hours", "findings", "files"}
    hour = printed["hours"][0]
    assert {"index", "kind", "start", "end", "verdict", "longest_continuous_s", "coverage", "findings"} <= set(hour)


def test_a_manifests_own_overrides_are_a_what_if_not_the_official_judgement(sample_class, tmp_path):
    manifest = json.loads(sample_class.read_text(encoding="utf-8"))
    manifest["policy_overrides"] = {"practical_min_continuous_s": 1}
    for ref in manifest["recordings"]:
        ref["path"] = str(sample_class.parent / ref["path"])
    what_if = tmp_path / "class.json"
    what_if.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    printed = json.loads(_run("analyze", str(what_if), "--json").stdout)
    assert printed["judged_by"]["official"] is False and "not the official judgement" in printed["judged_by"]["note"]
    shown = _run("analyze", str(what_if))
    assert shown.returncode == 0 and "not the official judgement" in shown.stderr


def test_online_with_set_is_a_what_if(tmp_path):
    from tests.monitor.online.builders import clean_session

    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in clean_session().events), encoding="utf-8")
    plain = json.loads(_run("online", str(events), "--json").stdout)
    assert "judged_by" not in plain
    what_if = _run("online", str(events), "--json", "--set", "popup_max_gap_s=60")
    assert json.loads(what_if.stdout)["judged_by"]["official"] is False
    assert "not the official judgement" in _run("online", str(events), "--set", "popup_max_gap_s=60").stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "error: class manifest not found"),
        (lambda d: (d / "class.json").write_text("{broken"), "error: class manifest"),
        (lambda d: (d / "class.json").write_text(json.dumps({
            "class_id": "C", "policy_overrides": {"no_such_thing": 1},
            "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                          "end": "2026-11-20T08:45:00+08:00"}]})), "error: unknown policy parameter 'no_such_thing'"),
        (lambda d: (d / "class.json").write_text(json.dumps({
            "class_id": "C", "roster": [{"id": str(n), "name": "x"} for n in range(90)], "teachers": [{"id": "E1"}] * 5,
            "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                          "end": "2026-11-20T08:45:00+08:00"}]})), "error: class.size (003 §20(1)): 90 trainees"),
        (lambda d: (d / "class.json").write_text(json.dumps({
            "class_id": "C", "recordings": [{"path": "gone.mp4", "start": "2026-11-20T08:00:00+08:00"}], "teachers": [{"id": "E1"}],
            "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                          "end": "2026-11-20T08:45:00+08:00"}]})), "error: recording not found: gone.mp4"),
    ],
)
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(tmp_path, setup, message):
    setup(tmp_path)
    result = _run("analyze", str(tmp_path / "class.json"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_policy_lists_and_shows_profiles():
    listed = _run("policy")
    assert listed.stdout.split() == ["demo-short", "sanmenxia-2021", "zhengzhou-2022"]
    shown = _run("policy", "sanmenxia-2021")
    assert "practical_share_min = 0.65" in shown.stdout
    assert _run("policy", "nowhere").returncode == 2
