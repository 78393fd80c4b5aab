"""xAPI Video Profile statements, written as the profile's documentation shows them, give the same
verdicts as the native events they stand for."""

from __future__ import annotations

import json

import msgspec

from monitor.online.reader import parse_lines
from sample_videos.statements import iri as _iri
from sample_videos.statements import statement_id as _uuid
from tests.monitor.online.builders import T0, clean_session, judge

VERB = {
    "session_start": "http://adlnet.gov/expapi/verbs/initialized",
    "play": "https://w3id.org/xapi/video/verbs/played",
    "pause": "https://w3id.org/xapi/video/verbs/paused",
    "seek": "https://w3id.org/xapi/video/verbs/seeked",
    "unit_complete": "http://adlnet.gov/expapi/verbs/completed",
    "session_end": "http://adlnet.gov/expapi/verbs/terminated",
    "ratechange": "http://adlnet.gov/expapi/verbs/interacted",
}
EXT = "https://w3id.org/xapi/video/extensions/"


def statement(e: dict) -> dict:
    """The statement a video player following the profile sends for a native event: valid xAPI
    1.0.3 (the id a UUID, course and unit IRIs; `native_like` gives the native event it stands for)."""
    result, context = {}, {EXT + "session-id": e["session"], EXT + "length": 1200}
    if e["type"] in ("play", "pause", "unit_complete"):
        result[EXT + "time"] = e["position_s"]
    if e["type"] == "seek":
        result[EXT + "time-from"], result[EXT + "time-to"] = e["from_s"], e["to_s"]
    if e.get("rate") is not None:
        context[EXT + "speed"] = f"{e['rate']:g}x"
    return {
        "id": _uuid(e["id"]),
        "actor": {"objectType": "Agent", "name": "学员", "account": {"homePage": "https://edu.example.cn", "name": e["learner"]}},
        "verb": {"id": VERB[e["type"]], "display": {"en-US": VERB[e["type"]].rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": _iri(e["unit"], "videos"),
                   "definition": {"type": "https://w3id.org/xapi/video/activity-type/video", "name": {"zh-CN": "单元"}}},
        "result": {"extensions": result},
        "context": {"platform": e["platform"], "contextActivities": {"parent": [{"id": _iri(e["course"], "courses")}],
                    "category": [{"id": "https://w3id.org/xapi/video"}]}, "extensions": context},
        "timestamp": e["at"],
    }


def native_like(e: dict) -> dict:
    """The native event as its statement names it (UUID id, IRIs for course and unit)."""
    return {**e, "id": _uuid(e["id"]), "course": _iri(e["course"], "courses"), "unit": _iri(e["unit"], "videos")}


def _as_lines(events: list[dict]) -> list[str]:
    """Events the profile has verbs for go as statements, the rest (pop-ups, focus, photos) natively."""
    return [json.dumps(statement(e) if e["type"] in VERB else native_like(e), ensure_ascii=False) for e in events]


def _session_with_everything() -> list[dict]:
    s = clean_session(length_s=900)
    s.add("seek", 450, from_s=450, to_s=700)  # past the furthest point: fast-forward
    s.add("ratechange", 600, rate=2.0)
    s.add("unit_complete", 900, position_s=900)
    return s.events


def test_statements_map_to_the_native_events():
    events = _session_with_everything()
    from monitor.online.xapi_schema import check_batch

    check_batch([statement(e) for e in events if e["type"] in VERB])
    read = parse_lines(_as_lines(events))
    assert read.bad == [] and read.ignored == 0
    native = {e.id: e for e in parse_lines([json.dumps(native_like(e)) for e in events]).events}
    for e in read.events:  # the fields alike (the file reader's events are EventFields, not yet LearningEvents)
        assert msgspec.structs.astuple(e) == msgspec.structs.astuple(native[e.id])


def test_statements_give_the_same_verdicts_as_native_events():
    events = _session_with_everything()
    from_native = judge([native_like(e) for e in events])
    from_xapi_read = parse_lines(_as_lines(events))
    from monitor.online.catalogue import Catalogue
    from monitor.online.engine import OnlineEngine
    from monitor.policy import load_policy

    engine = OnlineEngine(load_policy("zhengzhou-2022"), Catalogue())
    engine.add(from_xapi_read.events)
    assert [r.model_dump() for r in engine.sessions()] == [r.model_dump() for r in from_native]
    assert "online.fast_forward" in {f.rule for f in from_native[0].findings}


def test_interactions_without_a_speed_change_are_ignored_and_bad_statements_named():
    e = clean_session().events[0]
    volume = statement({**e, "type": "ratechange"})
    del volume["context"]["extensions"]
    no_session = statement({**e, "type": "play", "position_s": 0})
    del no_session["context"]["extensions"][EXT + "session-id"]
    read = parse_lines([json.dumps(volume), json.dumps(no_session)])
    assert read.ignored == 1
    assert [(b.line, b.field) for b in read.bad] == [(2, "session")]
    assert T0.tzinfo is not None
