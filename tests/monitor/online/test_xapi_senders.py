"""xAPI statements as real senders send them (issue 15, part 2): a video.js player's Video Profile
session with no parent context activity and no platform, context activities as one object, any
actor identifier, sessions from the registration, Groups, malformed parts, other verbs, voiding."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.reader import parse_lines, parse_text
from monitor.online.xapi_schema import check_batch
from monitor.policy import load_policy

VIDEO = "https://w3id.org/xapi/video"
EXT = VIDEO + "/extensions/"
VIDEO_ID = "https://media.example.cn/courses/electrician/unit-03.mp4"
REGISTRATION = "9f0b6c0e-8d3c-4c1f-9a43-3f5f3b1d2a10"
SESSION = "c8f1c7a2-1e57-4e47-b8a3-2d1f2c3b4a5e"
START = datetime(2026, 11, 20, 1, 0, 0, tzinfo=timezone.utc)


def videojs_statement(verb: str, at_s: float, result: dict[str, Any] | None = None,
                      context: dict[str, Any] | None = None, n: int = 0) -> dict[str, Any]:
    """A statement as the Video Profile's reference video.js integration writes it: a UUID id, an
    mbox actor, the video as object (its activity type and name), the session-id, length and
    user-agent context extensions, the profile as a category activity, a JavaScript toISOString()
    timestamp (UTC, milliseconds), and no parent activity and no context.platform."""
    verbs = {"initialized": "http://adlnet.gov/expapi/verbs/initialized", "played": VIDEO + "/verbs/played",
             "paused": VIDEO + "/verbs/paused", "seeked": VIDEO + "/verbs/seeked",
             "interacted": "http://adlnet.gov/expapi/verbs/interacted",
             "completed": "http://adlnet.gov/expapi/verbs/completed", "terminated": "http://adlnet.gov/expapi/verbs/terminated"}
    at = START + timedelta(seconds=at_s)
    return {
        "id": str(uuid.UUID(int=uuid.UUID(SESSION).int + n)),
        "actor": {"objectType": "Agent", "name": "王芳", "mbox": "mailto:wangfang@example.cn"},
        "verb": {"id": verbs[verb], "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": VIDEO_ID, "definition": {
            "type": VIDEO + "/activity-type/video", "name": {"zh-CN": "第三单元 安全用电"}}},
        "result": {"extensions": result or {}},
        "context": {
            "registration": REGISTRATION,
            "contextActivities": {"category": [{"objectType": "Activity", "id": VIDEO}]},
            "extensions": {EXT + "session-id": SESSION, EXT + "length": 600.0,
                           EXT + "user-agent": "Mozilla/5.0 (X11; Linux x86_64)", **(context or {})},
        },
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def videojs_session() -> list[dict[str, Any]]:
    """Ten minutes watched at 1x with a pause, a volume change and a seek back, then completed."""
    s = [
        videojs_statement("initialized", 0, context={EXT + "volume": 1, EXT + "speed": "1x"}),
        videojs_statement("played", 1, {EXT + "time": 0.0}),
        videojs_statement("paused", 241, {EXT + "time": 240.0, EXT + "played-segments": "0[.]240", EXT + "progress": 0.4}),
        videojs_statement("interacted", 250, context={EXT + "volume": 0.5}),  # a volume change: nothing to judge
        videojs_statement("played", 260, {EXT + "time": 240.0}),
        videojs_statement("seeked", 300, {EXT + "time-from": 280.0, EXT + "time-to": 200.0}),
        videojs_statement("paused", 681, {EXT + "time": 600.0, EXT + "progress": 1.0}),
        videojs_statement("completed", 681, {EXT + "time": 600.0, EXT + "progress": 1.0}),
        videojs_statement("terminated", 690, {EXT + "time": 600.0}),
    ]
    for n, statement in enumerate(s):
        statement["id"] = str(uuid.UUID(int=uuid.UUID(SESSION).int + n))
    return s


def _judge(read) -> list:
    engine = OnlineEngine(load_policy("zhengzhou-2022"), Catalogue())
    engine.add(read.events)
    return engine.sessions()


def test_a_videojs_session_with_no_parent_and_no_platform_is_judged():
    statements = videojs_session()
    check_batch(statements)  # valid xAPI 1.0.3, as the player sent it
    for read in (parse_text(json.dumps(statements), "learn.example.cn"),
                 parse_lines([json.dumps(s, ensure_ascii=False) for s in statements], "learn.example.cn")):
        assert read.bad == [] and read.ignored == 1 and len(read.events) == 8
        first = read.events[0]
        assert (first.learner, first.session, first.platform, first.course, first.unit) == (
            "wangfang@example.cn", SESSION, "learn.example.cn", VIDEO_ID, VIDEO_ID)
        assert first.at == START and read.events[-1].type == "session_end"
        [report] = _judge(read)
        assert report.session == SESSION and report.events == 8 and report.credited_s > 0
        # no pop-ups or photos in a Video Profile session: what supervision needs is missing
        assert {"online.popup_gap", "online.no_photo"} & {f.rule for f in report.findings}


def _with_context(statement: dict, **activities: Any) -> dict:
    statement = copy.deepcopy(statement)
    statement["context"]["contextActivities"].update(activities)
    return statement


def test_course_from_parent_else_grouping_else_the_object_single_objects_or_arrays():
    base = videojs_session()[1]
    parent, grouping = {"id": "https://edu.example.cn/courses/C7"}, {"id": "https://edu.example.cn/programmes/P1"}
    cases = [
        (_with_context(base, parent=parent), parent["id"]),
        (_with_context(base, parent=[parent, grouping]), parent["id"]),
        (_with_context(base, grouping=grouping), grouping["id"]),
        (_with_context(base, grouping=[grouping]), grouping["id"]),
        (_with_context(base, parent=[], grouping=grouping), grouping["id"]),
        (base, VIDEO_ID),
    ]
    for n, (statement, course) in enumerate(cases):
        statement["id"] = str(uuid.uuid4())
    check_batch([statement for statement, _ in cases])
    for n, (statement, course) in enumerate(cases):
        read = parse_text(json.dumps(statement), "P")
        assert read.bad == [] and read.events[0].course == course, n


def test_session_from_the_session_id_else_the_registration():
    played = videojs_session()[1]
    del played["context"]["extensions"][EXT + "session-id"]
    assert parse_text(json.dumps(played), "P").events[0].session == REGISTRATION
    del played["context"]["registration"]
    bad = parse_text(json.dumps(played), "P").bad
    assert [(b.line, b.field) for b in bad] == [(1, "session")] and "registration" in bad[0].message


@pytest.mark.parametrize(("actor", "learner"), [
    ({"mbox": "mailto:li.lei@example.cn"}, "li.lei@example.cn"),
    ({"objectType": "Agent", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}, "cd9b00a5611f94eaa7b1661edab976068e364975"),
    ({"openid": "http://openid.example.org/12345"}, "http://openid.example.org/12345"),
    ({"name": "李雷", "account": {"homePage": "https://learn.example.cn", "name": "100234"}}, "100234"),
])
def test_any_actor_identifier_gives_the_learner(actor, learner):
    played = {**videojs_session()[1], "actor": actor}
    check_batch([played])
    read = parse_text(json.dumps(played), "P")
    assert read.bad == [] and read.events[0].learner == learner


def test_a_group_is_refused_clearly_and_the_others_kept():
    statements = videojs_session()
    statements[1]["actor"] = {"objectType": "Group", "name": "class 3", "member": [{"mbox": "mailto:a@example.cn"}]}
    read = parse_text(json.dumps(statements), "P")
    assert [(b.line, b.field) for b in read.bad] == [(2, "actor")] and "Group" in read.bad[0].message
    assert len(read.events) == 7


@pytest.mark.parametrize(("where", "value"), [
    ("context.extensions", []), ("context.extensions", "x"), ("result.extensions", 5), ("result", "x"),
    ("context", 3), ("context.contextActivities", "x"), ("context.contextActivities.parent", "x"),
    ("context.contextActivities.parent", [1]), ("context.contextActivities.grouping", [{"no": "id"}]),
    ("object", "x"), ("actor", "x"), ("actor", {"name": "nobody"}),
])
def test_malformed_parts_are_refused_per_statement_never_raised(where, value):
    statements = videojs_session()
    target = statements[2]
    *path, last = where.split(".")
    holder = target
    for key in path:
        holder = holder[key]
    holder[last] = value
    for read in (parse_text(json.dumps(statements), "P"), parse_lines([json.dumps(s) for s in statements], "P")):
        assert [b.line for b in read.bad] == [3], read.bad
        assert read.bad[0].field.split(".")[0] == where.split(".")[0] or read.bad[0].field == where
        assert len(read.events) == 7


def test_other_verbs_are_ignored_not_errors():
    other = videojs_session()[1]
    for verb in ("http://adlnet.gov/expapi/verbs/attended", "http://adlnet.gov/expapi/verbs/answered",
                 "https://w3id.org/xapi/adl/verbs/logged-in", "http://example.com/verbs/played-elsewhere"):
        read = parse_text(json.dumps({**other, "verb": {"id": verb}}), "P")
        assert (read.events, read.bad, read.ignored) == ([], [], 1)


def test_a_voided_statement_stops_counting_in_any_order():
    statements = videojs_session()
    target = statements[4]["id"]
    voiding = {"id": str(uuid.uuid4()), "actor": statements[0]["actor"],
               "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
               "object": {"objectType": "StatementRef", "id": target.upper()}}
    check_batch(statements + [voiding])
    for ordered in (statements + [voiding], [voiding] + statements):
        for read in (parse_text(json.dumps(ordered), "P"), parse_lines([json.dumps(s) for s in ordered], "P")):
            assert read.voided == [target.upper()] and read.ignored == 2
            assert target not in {e.id for e in read.events} and len(read.events) == 7
    bad = {**voiding, "object": {"id": "https://example.com/a"}}
    assert [b.field for b in parse_text(json.dumps(bad), "P").bad] == ["object"]


def test_statements_without_ids_get_one_from_their_content():
    played = videojs_session()[1]
    del played["id"]
    read = parse_text(json.dumps([played, played, {**played, "timestamp": "2026-11-20T01:00:02Z"}]), "P")
    assert read.bad == [] and read.duplicates == 1 and len(read.events) == 2
    assert all(uuid.UUID(e.id) for e in read.events)


def test_the_senders_platform_is_the_callers_the_statements_otherwise_the_default():
    played = videojs_session()[1]
    played["context"]["platform"] = "video.js 8.10"
    assert parse_text(json.dumps(played), "file-name").events[0].platform == "video.js 8.10"
    # the service knows the sender by its key: context.platform is free text then
    assert parse_text(json.dumps(played), "P-key", "P-key").events[0].platform == "P-key"
    del played["context"]["platform"]
    assert parse_text(json.dumps(played), "file-name").events[0].platform == "file-name"


def test_an_lrs_export_with_more_and_stored_times():
    statements = videojs_session()
    for s in statements:
        s["stored"] = s.pop("timestamp")
        s["authority"] = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.cn", "name": "player"}}
        s["version"] = "1.0.3"
    check_batch(statements)
    read = parse_text(json.dumps({"statements": statements, "more": "/xapi/statements?more=abc"}), "P")
    assert read.bad == [] and len(read.events) == 8 and read.events[0].at == START


# Any part of a statement, any JSON: reading and validating never raise, and the other
# statements of the batch are kept.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from monitor.online.xapi_schema import StatementError, validate_statement  # noqa: E402
from tests.monitor.online.test_wire import _JSON, _dumps  # noqa: E402

_PLACES = ["id", "actor", "actor.mbox", "actor.account", "actor.objectType", "verb", "verb.id", "object", "object.id",
           "object.objectType", "result", "result.extensions", f"result.extensions.{EXT}time", "context",
           "context.registration", "context.platform", "context.extensions", f"context.extensions.{EXT}session-id",
           f"context.extensions.{EXT}speed", "context.contextActivities", "context.contextActivities.parent",
           "context.contextActivities.grouping", "timestamp", "stored"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(_PLACES), _JSON, min_size=1, max_size=3), which=st.integers(0, 8))
def test_no_statement_breaks_the_reader_or_the_validator(changes, which):
    from monitor.online.jsonsafe import loads

    statements = videojs_session()
    values = {}
    for n, (place, value) in enumerate(changes.items()):
        parts = place.split(".", 2) if place.startswith(("result.extensions.", "context.extensions.")) else place.split(".")
        holder = statements[which]
        for key in parts[:-1]:
            if not isinstance(holder.get(key), dict):
                holder[key] = {}
            holder = holder[key]
        holder[parts[-1]] = marker = f"__VALUE_{n}__"
        values[json.dumps(marker)] = _dumps(value)
    lines = [json.dumps(s, ensure_ascii=False) for s in statements]
    for marker, raw in values.items():
        lines[which] = lines[which].replace(marker, raw)
    kept = {s["id"] for n, s in enumerate(statements) if n != which and "interacted" not in s["verb"]["id"]}
    for read in (parse_text("[" + ",".join(lines) + "]", "P"), parse_text("[" + ",".join(lines) + "]", "P", "P", validate=True),
                 parse_lines(lines, "P"), parse_lines(lines, "P", validate=True)):
        assert kept <= {e.id for e in read.events}
        assert all(b.line == which + 1 for b in read.bad), read.bad
    try:
        validate_statement(loads(lines[which]), which)
    except StatementError as exc:
        assert exc.index == which


def test_what_cannot_be_an_event_is_named_where_it_is_in_the_statement():
    statements = videojs_session()
    statements[1]["result"]["extensions"][EXT + "time"] = -3
    statements[2]["timestamp"] = "1999-12-31T23:00:00Z"
    statements[4]["result"]["extensions"] = {}
    read = parse_text(json.dumps(statements), "P")
    assert [(b.line, b.field) for b in read.bad] == [
        (2, EXT_TIME), (3, "timestamp"), (5, EXT_TIME)]


EXT_TIME = "result.extensions." + EXT + "time"
