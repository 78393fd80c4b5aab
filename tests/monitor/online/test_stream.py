"""Events as platforms send them: out of order, late, re-sent, malformed, or as xAPI statements."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.reader import parse_lines, read_events
from monitor.policy import load_policy
from tests.monitor.online.builders import clean_session, judge

POLICY = load_policy("zhengzhou-2022")


def _mixed_day() -> list[dict]:
    """Two learners, three platforms, violations of several rules: something for every rule to see."""
    a = clean_session(learner="L1", session="A", platform="edu-a", length_s=900)
    a.add("ratechange", 300, rate=2.0).add("ratechange", 330, rate=1.0)
    b = clean_session(learner="L1", session="B", platform="edu-b", start_s=600, unit="U2")
    c = clean_session(learner="L2", session="C", platform="edu-a", length_s=700)
    c.events = [e for e in c.events if e["type"] != "photo_kept"]
    return a.events + b.events + c.events


def _report(events: list[dict]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in judge(events)], sort_keys=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), resend=st.floats(0, 0.5))
def test_any_arrival_order_with_resent_events_gives_the_same_report(seed, resend):
    events = _mixed_day()
    rng = random.Random(seed)
    arrived = events + [e for e in events if rng.random() < resend]
    rng.shuffle(arrived)
    engine = OnlineEngine(POLICY, Catalogue())
    from monitor.online.reader import collect, parse_record

    for start in range(0, len(arrived), 17):  # in batches, as a platform would post them
        engine.add(collect(parse_record(e, 1) for e in arrived[start:start + 17]).events)
    got = json.dumps([r.model_dump(mode="json") for r in engine.sessions()], sort_keys=True)
    assert got == _report(events)


def test_a_late_event_changes_only_its_learner():
    events = _mixed_day()
    late = next(e for e in events if e["learner"] == "L2" and e["type"] == "popup_answered")
    engine = OnlineEngine(POLICY, Catalogue())
    from monitor.online.reader import collect, parse_record

    engine.add(collect(parse_record(e, 1) for e in events if e is not late).events)
    before = {r.session: r for r in engine.sessions()}
    assert before["C"].verdict.value == "invalid"
    engine.add(collect([parse_record(late, 1)]).events)
    assert engine._dirty == {"L2"}
    after = {r.session: r for r in engine.sessions()}
    assert after["A"] is before["A"] and after["B"] is before["B"]  # recomputed only for L2
    assert "online.popup_unanswered" not in {f.rule for f in after["C"].findings}


def test_malformed_lines_are_reported_with_line_numbers_and_the_rest_count():
    good = clean_session().events
    lines = [json.dumps(e) for e in good]
    lines.insert(2, "{not json")
    lines.insert(5, json.dumps({**good[3], "id": "bad-seek", "type": "seek"}))  # no from_s / to_s
    lines.insert(7, json.dumps({**good[4], "id": "bad-at", "at": "yesterday"}))
    lines.insert(9, json.dumps({**good[5], "id": "naive", "at": "2026-11-20T09:00:00"}))
    read = parse_lines(lines)
    assert len(read.events) == len(good)
    assert [(b.line, b.event_id, b.field) for b in read.bad] == [
        (3, None, "line"), (6, "bad-seek", "from_s, to_s"), (8, "bad-at", "at"), (10, "naive", "at")]


def test_a_resent_event_is_counted_once(tmp_path):
    events = clean_session().events
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events + events[:10]))
    read = read_events(path)
    assert read.duplicates == 10 and len(read.events) == len(events)


def test_lrs_export_and_json_array_are_read(tmp_path):
    events = clean_session().events
    (tmp_path / "a.json").write_text(json.dumps(events))
    (tmp_path / "b.json").write_text(json.dumps({"statements": events, "more": ""}))
    assert len(read_events(tmp_path / "a.json").events) == len(events)
    assert len(read_events(tmp_path / "b.json").events) == len(events)
