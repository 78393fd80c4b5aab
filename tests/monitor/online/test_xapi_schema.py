"""xAPI 1.0.3 statement validation (monitor/online/xapi_schema.py), held to every declarative
test of ADL's LRS conformance suite: the statements an LRS must store (200) and the ones it must
refuse (400), built from the suite's own templates by conformance/extract.js."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.online.xapi_schema import StatementError, check_batch, statement_problems, validate_statement
from tests.conftest import missing

SUITE = Path(__file__).resolve().parents[3].parent / "shared" / "xapi-conformance"
EXTRACT = Path(__file__).resolve().parent / "conformance" / "extract.js"

GOOD = {
    "id": "6fbd600f-d17c-4c74-801a-2ec2e53231c8",
    "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.com"},
    "verb": {"id": "https://w3id.org/xapi/video/verbs/played", "display": {"en-US": "played"}},
    "object": {"objectType": "Activity", "id": "https://example.com/videos/unit-03.mp4"},
    "timestamp": "2026-11-20T09:00:00+08:00",
}


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    node = shutil.which("node")
    if node is None or not (SUITE / "test" / "v1_0_3" / "configs").is_dir():
        missing(f"ADL's conformance suite ({SUITE}) or node not found")
    out = subprocess.run([node, str(EXTRACT), str(SUITE)], capture_output=True, text=True, check=True, timeout=120)
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_every_declarative_conformance_case_is_judged_as_the_suite_expects(cases):
    assert len(cases) > 900
    wrong = []
    for case in cases:
        try:
            validate_statement(case["statement"], 0)
            got = 200
        except StatementError:
            got = 400
        if got != case["expect"]:
            wrong.append((case["file"], case["name"], case["expect"]))
    assert wrong == []
    assert {c["expect"] for c in cases} == {200, 400}


@pytest.mark.parametrize(("edit", "field"), [
    (lambda s: s["actor"].update(mbox="learner@example.com"), "actor.mbox"),
    (lambda s: s["actor"].update(openid="http://openid.example.org/1"), "actor"),  # two identifiers
    (lambda s: s.update(id="not-a-uuid"), "id"),
    (lambda s: s["verb"].update(id="played"), "verb.id"),
    (lambda s: s.update(timestamp="2026-11-20T09:00:00-00:00"), "timestamp"),
    (lambda s: s.update(context={"contextActivities": {"parent": {"id": "no scheme"}}}), "context.contextActivities.parent"),
    (lambda s: s.update(result={"score": {"raw": 5, "min": 0, "max": 4}}), "result.score.raw"),
    (lambda s: s.update(extra=1), "statement"),
])
def test_an_invalid_statement_is_named_with_its_field(edit, field):
    statement = json.loads(json.dumps(GOOD))
    edit(statement)
    with pytest.raises(StatementError) as caught:
        check_batch([GOOD, statement])
    assert caught.value.index == 1 and caught.value.field.startswith(field), str(caught.value)
    assert str(caught.value).startswith(f"statement 1: {caught.value.field}: ")


def test_single_object_context_activities_and_any_identifier_are_valid():
    for actor in ({"mbox": "mailto:a@example.com"}, {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
                  {"openid": "http://openid.example.org/12345"}, {"account": {"homePage": "https://edu.example.cn", "name": "42"}}):
        statement = {**GOOD, "actor": actor, "context": {"contextActivities": {"parent": {"id": "https://example.com/c/1"},
                                                                              "grouping": [{"id": "https://example.com/g"}]}}}
        validate_statement(statement, 0)


def test_poison_and_non_objects_are_named_not_raised():
    from monitor.online.jsonsafe import loads

    poisoned = loads(json.dumps(GOOD)[:-1] + ', "result": {"extensions": {"https://x.example/t": NaN}}}')
    surrogate = loads(json.dumps(GOOD).replace("learner@", "le\\ud800arner@"))
    problems = statement_problems([poisoned, surrogate, [1], GOOD], first=1)
    assert [(p.index, p.field) for p in problems] == [(1, "result.extensions.https://x.example/t"), (2, "actor.mbox"), (3, "")]
    with pytest.raises(StatementError, match="appears twice"):
        check_batch([GOOD, GOOD])
