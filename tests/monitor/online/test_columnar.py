"""The columnar reader (monitor/online/columnar.py) takes only files about which there is no
doubt; on those, the engine's reports are the ones the line-by-line reader's events give, and
every defect sends the file to the line-by-line reader, whose messages name line and field."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from monitor.online.catalogue import load_catalogue
from monitor.online.columnar import read_clean
from monitor.online.engine import OnlineEngine, judge_file
from monitor.online.reader import read_events
from monitor.policy import load_policy
from sample_videos.online_day import write_day
from tests.monitor.online.builders import clean_session

POLICY = load_policy("zhengzhou-2022")


def _dump(reports) -> str:
    return json.dumps([r.model_dump(mode="json") for r in reports], sort_keys=True)


def test_a_clean_day_read_into_columns_is_judged_as_read_line_by_line(tmp_path):
    paths = write_day(tmp_path, learners=120)
    catalogue = load_catalogue(paths["courses"], paths["history"])
    columns = read_events(paths["events"], columnar=True)
    assert columns.columns is not None and columns.events == []
    lines = read_events(paths["events"])
    assert columns.columns.num_rows == len(lines.events)
    by_columns, by_objects = OnlineEngine(POLICY, catalogue), OnlineEngine(POLICY, catalogue)
    by_columns.add_arrow(columns.columns)
    by_objects.add(lines.events)
    assert _dump(by_columns.sessions()) == _dump(by_objects.sessions())


def _lines() -> list[dict]:
    return clean_session(length_s=900).events


DEFECTS = {
    "not JSON": lambda ls: ls[:3] + ["{not json"] + ls[3:],
    "a blank line": lambda ls: ls[:3] + ["   "] + ls[3:],
    "an xAPI statement": lambda ls: ls + [json.dumps({"id": "x", "verb": {"id": "http://adlnet.gov/expapi/verbs/played"}})],
    "a naive time": lambda ls: _edit(ls, 2, at="2026-11-20T09:00:00"),
    "an impossible date": lambda ls: _edit(ls, 2, at="2026-02-30T09:00:00+08:00"),
    "a negative position": lambda ls: _edit(ls, 3, position_s=-1),
    "a rate of 0": lambda ls: _edit(ls, 2, rate=0),
    "a play without its position": lambda ls: _edit(ls, 2, position_s=None),
    "an unknown type": lambda ls: _edit(ls, 2, type="teleport"),
    "an id too long": lambda ls: _edit(ls, 2, id="x" * 201),
    "an empty learner": lambda ls: _edit(ls, 2, learner=""),
    "a boolean for a text": lambda ls: _edit(ls, 2, learner=True),
    "a fraction for an id": lambda ls: _edit(ls, 2, unit=3.5),
    "a NaN position": lambda ls: ls[:3] + [ls[3].replace('"position_s": 30.0', '"position_s": NaN')] + ls[4:],
    "a position of 1e400": lambda ls: ls[:3] + [ls[3].replace('"position_s": 30.0', '"position_s": 1e400')] + ls[4:],
    "a position beyond a week": lambda ls: _edit(ls, 3, position_s=8 * 86400),
    "a lone surrogate": lambda ls: ls[:3] + [ls[3].replace('"learner": "L1"', '"learner": "L\\ud800"')] + ls[4:],
    "a year before 2000": lambda ls: _edit(ls, 2, at="1999-12-31T23:59:59+08:00"),
    "a year after 2099": lambda ls: _edit(ls, 2, at="9999-12-31T23:59:59-01:00"),
    "an epoch time out of range": lambda ls: _edit(ls, 2, at=12345),
    "a text for a number": lambda ls: _edit(ls, 3, position_s="12"),
    "two objects on a line": lambda ls: ls[:2] + [ls[2] + " " + ls[3]] + ls[4:],
    "no learner at all": lambda ls: _edit(ls, 2, learner=None),
    # found by bench/fuzz.py: the blank last line made the line count match the two objects
    "two objects on a line and a blank last line": lambda ls: [ls[0] + " " + ls[0], "   "],
}


def _edit(lines: list[str], n: int, **fields) -> list[str]:
    record = json.loads(lines[n])
    for name, value in fields.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = value
    return lines[:n] + [json.dumps(record)] + lines[n + 1:]


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_any_defect_sends_the_file_to_the_line_by_line_reader(tmp_path: Path, defect: str):
    lines = DEFECTS[defect]([json.dumps(e) for e in _lines()])
    assert lines != [json.dumps(e) for e in _lines()], "the defect was made"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_clean(path.read_bytes()) is None
    read = read_events(path, columnar=True)
    assert read.columns is None
    assert read.bad or read.ignored or defect == "a blank line"
    plain = read_events(path)
    assert [(b.line, b.field) for b in read.bad] == [(b.line, b.field) for b in plain.bad]


def test_non_utf8_text_sends_the_file_to_the_line_by_line_reader_which_refuses_it(tmp_path):
    from monitor.errors import MonitorError

    lines = [json.dumps(e) for e in _lines()]
    path = tmp_path / "events.jsonl"
    path.write_bytes(("\n".join(lines[:2]) + "\n").encode() + b'{"id": "\xff\xfe"}\n')
    assert read_clean(path.read_bytes()) is None
    with pytest.raises(MonitorError, match="cannot read events file"):
        read_events(path, columnar=True)


def test_re_sent_events_are_counted_once_the_first_kept(tmp_path):
    lines = [json.dumps(e) for e in _lines()]
    resent = json.loads(lines[4])
    resent["position_s"] = 999  # same id, other content: the first one counts
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines + [lines[3], json.dumps(resent)]) + "\n", encoding="utf-8")
    table, duplicates = read_clean(path.read_bytes())
    assert duplicates == 2 and table.num_rows == len(lines)
    assert table.column("position_s").to_pylist()[4] == json.loads(lines[4])["position_s"]
    report = judge_file(path, POLICY)
    assert report.duplicates == 2
    plain = read_events(path)
    assert plain.duplicates == 2


def test_integer_ids_and_epoch_times_go_line_by_line_and_read_as_their_text(tmp_path):
    """A platform's integer ids and epoch times: not for the columns (the schema is text), read by
    the line-by-line reader into the same events as their text and RFC 3339 forms."""
    events = _lines()
    wire = [{**e, "learner": 17, "unit": 3, "at": datetime.fromisoformat(e["at"]).timestamp()} for e in events]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in wire) + "\n", encoding="utf-8")
    assert read_clean(path.read_bytes()) is None
    read = read_events(path, columnar=True)
    assert read.bad == [] and len(read.events) == len(events)
    assert {e.learner for e in read.events} == {"17"} and {e.unit for e in read.events} == {"3"}
    assert [e.at.timestamp() for e in read.events] == [datetime.fromisoformat(e["at"]).timestamp() for e in events]
