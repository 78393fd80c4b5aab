"""Our supervision xAPI profile (issue 15, part 3): the published JSON-LD document says what the
mapping reads, and the example session a platform is shown (Video Profile statements and ours)
is valid xAPI and judged valid; the same session with a pop-up timed out, or the window hidden
while playing, is not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema_rs
import pytest

from monitor.online import supervision
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine, judge_file
from monitor.online.reader import parse_text
from monitor.online.xapi import VERBS
from monitor.online.xapi_schema import check_batch
from monitor.policy import load_policy

EXAMPLE = Path(supervision.__file__).resolve().parent / "xapi_profile" / "example-session.json"
POLICY = load_policy("zhengzhou-2022")


def _example() -> list[dict]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _judge(statements: list[dict]):
    read = parse_text(json.dumps(statements, ensure_ascii=False), "learn.example.cn")
    assert read.bad == [], read.bad
    engine = OnlineEngine(POLICY, Catalogue())
    engine.add(read.events)
    return read, engine.sessions()


def test_the_profile_document_has_the_xapi_profiles_shape_and_names_what_is_mapped():
    doc = supervision.profile_document()
    assert doc["id"] == supervision.PROFILE and doc["type"] == "Profile"
    assert doc["@context"] == "https://w3id.org/xapi/profiles/context"
    assert doc["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    versions = {v["id"] for v in doc["versions"]}
    assert supervision.VERSION in versions and all(v["generatedAtTime"] for v in doc["versions"])
    assert doc["author"]["type"] in ("Organization", "Person") and doc["author"]["name"]
    concepts = {c["id"]: c for c in doc["concepts"]}
    for concept in doc["concepts"] + doc["templates"]:
        assert concept["id"].startswith(supervision.PROFILE + "/") and concept["inScheme"] in versions
        assert concept["prefLabel"]["en"] and concept["definition"]["en"] and concept["prefLabel"]["zh-CN"]
    verbs = {i for i, c in concepts.items() if c["type"] == "Verb"}
    assert verbs == set(supervision.VERBS)
    extensions = {i: c for i, c in concepts.items() if c["type"] == "ContextExtension"}
    assert set(extensions) == {supervision.POPUP_ID, supervision.IMAGE, supervision.IMAGES, supervision.NONCE}
    for concept in extensions.values():
        jsonschema_rs.validator_for(json.loads(concept["inlineSchema"]))  # a JSON Schema, as a string
        assert set(concept["recommendedVerbs"]) <= verbs
    assert {t["verb"] for t in doc["templates"]} == verbs and all(t["type"] == "StatementTemplate" for t in doc["templates"])
    assert all(set(rule) <= {"location", "selector", "presence", "any", "all", "none", "scopeNote"}
               and rule["presence"] in ("included", "excluded", "recommended") for t in doc["templates"] for rule in t["rules"])
    assert set(supervision.VERBS) <= set(VERBS)  # the mapping reads every verb the profile defines


def test_the_example_session_is_valid_xapi_and_judged_valid():
    statements = _example()
    check_batch(statements)
    ours = {s["verb"]["id"] for s in statements} & set(supervision.VERBS)
    assert ours == set(supervision.VERBS) - {supervision.VERB + "popup-timed-out"}
    schemas = {c["id"]: jsonschema_rs.validator_for(json.loads(c["inlineSchema"]))
               for c in supervision.profile_document()["concepts"] if c["type"] == "ContextExtension"}
    for s in statements:
        for iri, value in s["context"]["extensions"].items():
            if iri in schemas:
                schemas[iri].validate(value)
    read, [report] = _judge(statements)
    assert read.ignored == 0 and len(read.events) == len(statements)
    assert report.verdict.value == "valid", [(f.rule, f.detail) for f in report.findings]
    assert report.findings == [] and report.credited_s == pytest.approx(600.0, abs=1.0)
    kinds = {e.type for e in read.events}
    assert {"popup_shown", "popup_answered", "face_capture", "photo_kept", "hidden", "visible", "heartbeat"} <= kinds
    capture = next(e for e in read.events if e.type == "face_capture")
    assert capture.images and len(capture.images) == 3


def test_the_example_session_through_the_cli_reader(tmp_path):
    path = tmp_path / "learn.example.cn.json"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    report = judge_file(path, POLICY)
    assert [s.verdict.value for s in report.sessions] == ["valid"] and report.rejected == []
    assert report.sessions[0].platform == "learn.example.cn" and report.notes  # unit IRIs: order not judged, said


def test_a_pop_up_timed_out_or_the_window_hidden_while_playing_is_found():
    statements = _example()
    answered = [s for s in statements if s["verb"]["id"] == supervision.VERB + "popup-answered"]
    timed_out = copy.deepcopy(statements)
    for s in timed_out:
        if s["id"] == answered[1]["id"]:
            s["verb"] = {"id": supervision.VERB + "popup-timed-out", "display": {"en-US": "popup timed out"}}
    check_batch(timed_out)
    assert "online.popup_unanswered" in {f.rule for f in _judge(timed_out)[1][0].findings}
    hidden = copy.deepcopy(statements)
    for s in hidden:  # hidden at 292 s, shown again at 320 s: moved into playing time, and longer
        if s["verb"]["id"] == supervision.VERB + "window-hidden":
            s["timestamp"] = "2026-11-20T09:07:00+08:00"
        if s["verb"]["id"] == supervision.VERB + "window-visible":
            s["timestamp"] = "2026-11-20T09:08:30+08:00"
    assert "online.multi_window" in {f.rule for f in _judge(hidden)[1][0].findings}
