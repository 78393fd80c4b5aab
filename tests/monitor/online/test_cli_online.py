"""`monitor online FILE` with no flags (issue 15, part 4): a file of xAPI statements as a player or
an LRS wrote it (JSON lines, a JSON array, an LRS export), its platform the file's name when the
statements name none; unit order without a catalogue only for plain numbers, and said so."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from monitor.online import supervision
from tests.monitor.online.test_xapi_senders import videojs_session

MONITOR = [sys.executable, "-m", "monitor", "online"]
EXAMPLE = Path(supervision.__file__).resolve().parent / "xapi_profile" / "example-session.json"


def _run(path: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MONITOR, str(path), *flags], capture_output=True, text=True, timeout=300)


def _statements() -> list[dict]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("form", ["lines", "array", "export"])
def test_a_file_of_statements_is_judged_with_no_flags(tmp_path, form):
    statements = _statements()
    text = {"lines": "\n".join(json.dumps(s, ensure_ascii=False) for s in statements) + "\n",
            "array": json.dumps(statements, ensure_ascii=False, indent=1),
            "export": json.dumps({"statements": statements, "more": ""}, ensure_ascii=False)}[form]
    path = tmp_path / f"learn.example.cn.{'jsonl' if form == 'lines' else 'json'}"
    path.write_text(text, encoding="utf-8")
    run = _run(path, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    [session] = report["sessions"]
    assert (session["verdict"], session["platform"], session["learner"]) == ("valid", "learn.example.cn", "100234")
    assert report["rejected"] == [] and report["ignored"] == 0
    assert any("unit order (B5) not judged" in note for note in report["notes"])
    table = _run(path)
    assert table.returncode == 0 and "valid" in table.stdout and "note: unit order (B5) not judged" in table.stdout


def test_a_videojs_file_with_invalid_and_voided_statements(tmp_path):
    statements = videojs_session()
    statements[3]["actor"] = {"mbox": "wangfang@example.cn"}  # no mailto: not valid xAPI
    statements.append({"id": str(uuid.uuid4()), "actor": statements[0]["actor"],
                       "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
                       "object": {"objectType": "StatementRef", "id": statements[5]["id"]}})
    path = tmp_path / "player.jsonl"
    path.write_text("\n".join(json.dumps(s, ensure_ascii=False) for s in statements), encoding="utf-8")
    run = _run(path, "--json", "--platform", "learn.example.cn")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [(4, "actor.mbox")]
    assert "not a valid xAPI 1.0.3 statement" in report["rejected"][0]["message"]
    [session] = report["sessions"]
    assert session["platform"] == "learn.example.cn" and session["events"] == 7  # 9 less the invalid one (the volume change) and the voided one
    assert report["ignored"] == 1  # the voiding statement (the volume change was the invalid one)


def test_integer_ids_and_epoch_times_on_the_command_line(tmp_path):
    from tests.monitor.online.builders import clean_session
    from datetime import datetime

    events = [{**e, "learner": 7, "unit": 1, "at": int(datetime.fromisoformat(e["at"]).timestamp() * 1000)}
              for e in clean_session().events]
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events), encoding="utf-8")
    run = _run(path, "--json")
    assert run.returncode == 0, run.stderr
    [session] = json.loads(run.stdout)["sessions"]
    assert session["learner"] == "7" and session["verdict"] == "valid"
