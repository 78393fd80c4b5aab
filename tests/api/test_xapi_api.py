"""The xAPI 1.0.3 Statement API at /xapi/ (issue #15): Basic auth, POST/PUT/GET, the version
header, validation of a batch as a whole, 409, voiding that re-judges, attachments, Groups,
verbs the rules do not use, CORS, and no 500 on malformed input."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlmodel import delete, select

import api.store.statements as xapi_store
from models.statements import XapiStatement
from models.tables import DirtyLearner, Event
from tests.api.conftest import World, make_world
from tests.monitor.online.builders import clean_session
from tests.monitor.online.test_xapi import statement as video_statement

V = {"X-Experience-API-Version": "1.0.3"}
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def basic(world: World, who: str = "plat_p") -> dict[str, str]:
    """HTTP Basic as an LRS client sends it: user `tm_<id>`, password the secret after it."""
    prefix, key_id, secret = world.keys[who].split("_", 2)
    token = base64.b64encode(f"{prefix}_{key_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", **V}


def plain(n: int = 0, **extra: Any) -> dict[str, Any]:
    """A statement of a verb the rules do not use."""
    return {"actor": {"mbox": f"mailto:learner{n}@example.com"}, "verb": {"id": ATTENDED, "display": {"en-US": "attended"}},
            "object": {"id": f"http://example.com/activities/{n}"}, **extra}


def video_session(learner: str = "L1") -> list[dict[str, Any]]:
    """A video.js player's session as statements (initialized, played, paused), with UUID ids."""
    events = [e for e in clean_session(platform="learn.example", course="https://edu.example.cn/courses/C1",
                                       unit="https://edu.example.cn/videos/U1").events
              if e["type"] in ("session_start", "play", "pause")]
    out = []
    for e in events:
        s = video_statement({**e, "learner": learner})
        s["id"] = str(uuid.uuid4())
        del s["context"]["platform"]  # the key says which platform this is
        out.append(s)
    return out


def events_of(world: World) -> list[Event]:
    with world.service.session() as db:
        return list(db.exec(select(Event)).all())


def test_basic_auth_post_and_get_back_as_stored(world: World) -> None:
    statements = [plain(1), plain(2, id=str(uuid.uuid4()))]
    r = world.client.post("/xapi/statements", json=statements, headers=basic(world))
    assert r.status_code == 200, r.text
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    ids = r.json()
    assert len(ids) == 2 and ids[1] == statements[1]["id"] and uuid.UUID(ids[0])  # in request order, one made
    got = world.client.get("/xapi/statements", params={"statementId": ids[0]}, headers=basic(world))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["id"] == ids[0] and body["actor"] == statements[0]["actor"] and body["stored"] and body["timestamp"]
    assert body["authority"]["account"]["name"] == world.keys["plat_p"].split("_")[1]
    # Bearer works beside Basic; another platform's statement is not found
    assert world.client.get("/xapi/statements", params={"statementId": ids[0]}, headers={**world.h("plat_p"), **V}).status_code == 200
    other = world.client.get("/xapi/statements", params={"statementId": ids[0]}, headers=basic(world, "plat_q"))
    assert other.status_code == 404 and other.headers["X-Experience-API-Version"] == "1.0.3"


def test_auth_and_version_are_refused_with_the_xapi_header(sqlite_world: World) -> None:
    w = sqlite_world
    bad = {"Authorization": "Basic " + base64.b64encode(b"tm_0123456789abcdef:wrong-secret").decode(), **V}
    r = w.client.post("/xapi/statements", json=plain(), headers=bad)
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    assert r.headers["content-type"] == "application/problem+json"
    r = w.client.post("/xapi/statements", json=plain(), headers={**basic(w), "X-Experience-API-Version": "0.95"})
    assert r.status_code == 400 and r.json()["type"] == "/problems/xapi-version"
    headers = basic(w)
    del headers["X-Experience-API-Version"]
    assert w.client.post("/xapi/statements", json=plain(), headers=headers).status_code == 400
    assert w.client.post("/xapi/statements", json=plain(), headers={**w.h("inst_a"), **V}).status_code == 403
    about = w.client.get("/xapi/about")
    assert about.status_code == 200 and "1.0.3" in about.json()["version"]
    assert about.headers["X-Experience-API-Version"] == "1.0.3"
    profile = w.client.get("/xapi/profile")
    assert profile.status_code == 200 and profile.json()["id"].startswith("https://training-monitor.example/xapi/")
    assert w.client.get("/xapi/activities/state", headers=basic(w)).status_code == 404
    assert w.client.delete("/xapi/statements", headers=basic(w)).status_code == 405


def test_put_409_and_idempotent_resend(sqlite_world: World) -> None:
    w = sqlite_world
    sid = str(uuid.uuid4())
    r = w.client.put("/xapi/statements", params={"statementId": sid}, json=plain(3), headers=basic(w))
    assert r.status_code == 204, r.text
    assert w.client.put("/xapi/statements", params={"statementId": sid}, json=plain(3), headers=basic(w)).status_code == 204
    assert w.client.post("/xapi/statements", json=plain(3, id=sid), headers=basic(w)).json() == [sid]
    r = w.client.put("/xapi/statements", params={"statementId": sid}, json=plain(4), headers=basic(w))
    assert r.status_code == 409 and r.json()["statement_id"] == sid
    r = w.client.put("/xapi/statements", params={"statementId": sid}, json=plain(3, id=str(uuid.uuid4())), headers=basic(w))
    assert r.status_code == 400
    assert w.client.put("/xapi/statements", json=plain(3), headers=basic(w)).status_code == 400  # no statementId


def test_a_batch_with_one_invalid_statement_is_stored_nowhere(sqlite_world: World) -> None:
    w = sqlite_world
    good = plain(5, id=str(uuid.uuid4()))
    bad = plain(6, id=str(uuid.uuid4()))
    bad["actor"]["mbox"] = "learner6@example.com"  # not mailto:
    r = w.client.post("/xapi/statements", json=[good, bad], headers=basic(w))
    assert r.status_code == 400
    problem = r.json()
    assert problem["errors"] == [{"statement": "1", "field": "actor.mbox", "message": problem["errors"][0]["message"]}]
    assert "statement 1" in problem["detail"]
    assert w.client.get("/xapi/statements", params={"statementId": good["id"]}, headers=basic(w)).status_code == 404


@pytest.mark.parametrize("change, field", [
    (lambda s: s.update(verb={"id": "not an iri"}), "verb.id"),
    (lambda s: s.update(timestamp="2026-13-01T00:00:00Z"), "timestamp"),
    (lambda s: s.update(timestamp="2026-11-20T08:00:00-00:00"), "timestamp"),
    (lambda s: s["actor"].update(openid="http://example.com/me"), "actor"),  # two identifiers
    (lambda s: s.update(result={"duration": "1 hour"}), "result.duration"),
    (lambda s: s.update(result={"score": {"scaled": 2}}), "result.score.scaled"),
    (lambda s: s.update(context={"registration": "not-a-uuid"}), "context.registration"),
    (lambda s: s.update(Actor={}), "statement"),
    (lambda s: s.update(object={"objectType": "StatementRef", "id": str(uuid.uuid4())}, context={"platform": "x"}),
     "context.platform"),
])
def test_invalid_statements_name_their_field(sqlite_world: World, change, field) -> None:  # type: ignore[no-untyped-def]
    s = plain(7)
    change(s)
    r = sqlite_world.client.post("/xapi/statements", json=s, headers=basic(sqlite_world))
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field


def test_single_object_context_activities_are_stored_as_arrays(sqlite_world: World) -> None:
    w = sqlite_world
    s = plain(8, id=str(uuid.uuid4()), context={"contextActivities": {"parent": {"id": "http://example.com/course"}}})
    assert w.client.post("/xapi/statements", json=s, headers=basic(w)).status_code == 200
    got = w.client.get("/xapi/statements", params={"statementId": s["id"]}, headers=basic(w)).json()
    assert got["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/course"}]


def test_video_session_becomes_events_and_voiding_rejudges(db_url: str, tmp_path: Path) -> None:
    for world in make_world(db_url, tmp_path / "data", judge_delay_s=3600):  # judged later: the marks stay to be seen
        session = video_session("L-void")
        r = world.client.post("/xapi/statements", json=session, headers=basic(world))
        assert r.status_code == 200, r.text
        assert r.json() == [s["id"] for s in session]
        assert {e.event_id for e in events_of(world)} == {s["id"] for s in session}
        with world.service.session() as db:
            assert db.exec(select(DirtyLearner)).all()  # the learner is to be judged
            db.exec(delete(DirtyLearner))  # as if judged
            db.commit()
        voiding = {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:admin@learn.example"},
                   "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                   "object": {"objectType": "StatementRef", "id": session[1]["id"]}}
        r = world.client.post("/xapi/statements", json=voiding, headers=basic(world))
        assert r.status_code == 200, r.text
        # the voided statement's event no longer counts, and the learner is judged again
        assert {e.event_id for e in events_of(world)} == {s["id"] for s in session} - {session[1]["id"]}
        with world.service.session() as db:
            assert db.exec(select(DirtyLearner)).all()
        assert world.client.get("/xapi/statements", params={"statementId": session[1]["id"]},
                                headers=basic(world)).status_code == 404
        voided = world.client.get("/xapi/statements", params={"voidedStatementId": session[1]["id"]}, headers=basic(world))
        assert voided.status_code == 200 and voided.json()["id"] == session[1]["id"]
        # a voiding statement cannot be voided
        again = {**voiding, "id": str(uuid.uuid4()), "object": {"objectType": "StatementRef", "id": voiding["id"]}}
        r = world.client.post("/xapi/statements", json=again, headers=basic(world))
        assert r.status_code == 400 and "voiding" in r.json()["detail"]


def test_another_platform_cannot_void_a_platforms_statement(world: World) -> None:
    """Statement ids are a platform's own: plat_q voiding plat_p's statement id (before it and
    after it arrives) voids nothing of plat_p's, whose events still count and read back."""
    session = video_session("L-theirs")
    target = session[1]["id"]
    voiding = {"actor": {"mbox": "mailto:admin@study.example"}, "verb": {"id": VOIDED},
               "object": {"objectType": "StatementRef", "id": target}}
    r = world.client.post("/xapi/statements", json={**voiding, "id": str(uuid.uuid4())}, headers=basic(world, "plat_q"))
    assert r.status_code == 200, r.text  # (its own statement: voiding what it has not stored is legal 1.0.3)
    assert world.client.post("/xapi/statements", json=session, headers=basic(world)).status_code == 200
    r = world.client.post("/xapi/statements", json={**voiding, "id": str(uuid.uuid4())}, headers=basic(world, "plat_q"))
    assert r.status_code == 200, r.text
    mine = [e for e in events_of(world) if e.organisation_id == world.orgs["plat_p"]]
    assert {e.event_id for e in mine} == {s["id"] for s in session}  # every event of plat_p still counts
    got = world.client.get("/xapi/statements", params={"statementId": target}, headers=basic(world))
    assert got.status_code == 200 and got.json()["id"] == target
    assert world.client.get("/xapi/statements", params={"voidedStatementId": target},
                            headers=basic(world)).status_code == 404
    with world.service.session() as db:
        row = db.exec(select(XapiStatement).where(XapiStatement.organisation_id == world.orgs["plat_p"],
                                                  XapiStatement.statement_id == target)).one()
        assert not row.voided


def test_voiding_before_the_target_arrives(sqlite_world: World) -> None:
    w = sqlite_world
    session = video_session("L-late")
    voiding = {"actor": {"mbox": "mailto:admin@learn.example"}, "verb": {"id": VOIDED},
               "object": {"objectType": "StatementRef", "id": session[0]["id"]}}
    assert w.client.post("/xapi/statements", json=voiding, headers=basic(w)).status_code == 200
    assert w.client.post("/xapi/statements", json=session, headers=basic(w)).status_code == 200
    assert session[0]["id"] not in {e.event_id for e in events_of(w)}
    assert len(events_of(w)) == len(session) - 1


def test_other_verbs_and_groups(sqlite_world: World) -> None:
    w = sqlite_world
    group = {"objectType": "Group", "name": "class 3", "member": [{"mbox": "mailto:a@example.com"}]}
    r = w.client.post("/xapi/statements", json=[plain(9), plain(10, actor=group)], headers=basic(w))
    assert r.status_code == 200, r.text  # stored and acknowledged, not judged
    assert events_of(w) == []
    with w.service.session() as db:
        assert len(db.exec(select(XapiStatement)).all()) == 2
    played = video_session("L-group")[1]
    played["actor"] = group
    r = w.client.post("/xapi/statements", json=played, headers=basic(w))
    assert r.status_code == 400 and "Group" in r.json()["detail"] and r.json()["errors"][0]["field"] == "actor"


def _multipart(statement: dict[str, Any], parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "abc123boundary"
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(statement).encode(), b"\r\n"]
    for content_type, content in parts:
        out += [f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {hashlib.sha256(content).hexdigest()}\r\n\r\n".encode(), content, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"


def test_attachments_are_kept_and_given_back(sqlite_world: World) -> None:
    w = sqlite_world
    content = "证书 scan\r\nsecond line".encode()
    s = plain(11, id=str(uuid.uuid4()), attachments=[{
        "usageType": "http://example.com/attachment-usage/certificate", "display": {"en-US": "certificate"},
        "contentType": "text/plain", "length": len(content), "sha2": hashlib.sha256(content).hexdigest()}])
    body, content_type = _multipart(s, [("text/plain", content)])
    r = w.client.post("/xapi/statements", content=body, headers={**basic(w), "Content-Type": content_type})
    assert r.status_code == 200, r.text
    got = w.client.get("/xapi/statements", params={"statementId": s["id"], "attachments": "true"}, headers=basic(w))
    assert got.status_code == 200 and got.headers["content-type"].startswith("multipart/mixed")
    assert content in got.content
    # an attachment without fileUrl whose data is not sent is refused clearly
    r = w.client.post("/xapi/statements", json={**s, "id": str(uuid.uuid4())}, headers=basic(w))
    assert r.status_code == 400 and "attachments[0]" in r.json()["detail"]
    # data whose hash is not the one declared
    body, content_type = _multipart({**s, "id": str(uuid.uuid4())}, [("text/plain", b"other")])
    assert w.client.post("/xapi/statements", content=body, headers={**basic(w), "Content-Type": content_type}).status_code == 400


def test_cors_for_registered_origins(sqlite_world: World) -> None:
    w = sqlite_world
    origin = "https://player.learn.example"
    r = w.client.post(f"/admin/organisations/{w.orgs['plat_p']}/xapi-origins", json={"origin": origin}, headers=w.h("admin"))
    assert r.status_code == 201 and r.json() == [origin]
    assert w.client.post(f"/admin/organisations/{w.orgs['plat_p']}/xapi-origins", json={"origin": origin},
                         headers=w.h("plat_p")).status_code == 403
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-experience-api-version"}
    r = w.client.options("/xapi/statements", headers=preflight)
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    r = w.client.post("/xapi/statements", json=plain(12), headers={**basic(w), "Origin": origin})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin
    # another platform's caller from that origin, and an unknown origin, get no CORS grant
    r = w.client.post("/xapi/statements", json=plain(13), headers={**basic(w, "plat_q"), "Origin": origin})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = w.client.options("/xapi/statements", headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[1, 2]", b"null", b"42", b'"text"', b"{}", b"[{}]", b"[[]]",
    b'{"actor": NaN}', b"[" * 5000 + b"]" * 5000, b'{"actor": "\\ud800", "verb": {}, "object": {}}',
    b"\xff\xfe", json.dumps(plain(14, result={"score": {"raw": 1e400}})).encode(),
    json.dumps(plain(15, context={"contextActivities": {"parent": "http://x.example"}})).encode(),
    json.dumps(plain(16, context={"extensions": {"http://x.example/e": None}, "registration": 5})).encode(),
    json.dumps(plain(17, object={"objectType": "SubStatement", "actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v.example"},
                                 "object": {"objectType": "SubStatement"}})).encode(),
])
def test_malformed_input_is_a_4xx_never_a_500(sqlite_world: World, body: bytes) -> None:
    r = sqlite_world.client.post("/xapi/statements", content=body, headers={**basic(sqlite_world), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["X-Experience-API-Version"] == "1.0.3"


def test_alternate_request_syntax(sqlite_world: World) -> None:
    """POST ?method=PUT with the headers and the statement in a form (1.0.3 Part Three 1.3)."""
    w = sqlite_world
    sid = str(uuid.uuid4())
    auth = basic(w)["Authorization"]
    form = {"statementId": sid, "content": json.dumps(plain(18)), "Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    r = w.client.post("/xapi/statements?method=PUT", data=form)
    assert r.status_code == 204, r.text
    r = w.client.post("/xapi/statements?method=GET", data={"statementId": sid, "Authorization": auth,
                                                          "X-Experience-API-Version": "1.0.3"})
    assert r.status_code == 200 and r.json()["id"] == sid
    r = w.client.post("/xapi/statements?method=PUT", data={**form, "X-Experience-API-Version": "0.8"})
    assert r.status_code == 400
    assert w.client.put("/xapi/statements?method=POST", data=form).status_code == 400


def test_the_same_new_id_sent_twice_at_once(sqlite_world: World) -> None:
    """Two senders racing with one new id: one stores it, the other is acknowledged (no 500)."""
    from concurrent.futures import ThreadPoolExecutor

    w = sqlite_world
    batches = [[plain(n, id=str(uuid.uuid4())) for n in range(50)] for _ in range(3)]
    shared = str(uuid.uuid4())
    for batch in batches:
        batch.append(plain(99, id=shared))
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda b: w.client.post("/xapi/statements", json=b, headers=basic(w)), batches))
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    with w.service.session() as db:
        assert len(db.exec(select(XapiStatement).where(XapiStatement.statement_id == shared)).all()) == 1


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
                     max_leaves=8)
_PLACES = ["actor", "actor.mbox", "actor.account", "actor.objectType", "verb", "verb.id", "verb.display", "object",
           "object.id", "object.objectType", "object.definition", "object.definition.interactionType", "result",
           "result.score", "result.duration", "context", "context.contextActivities", "context.contextActivities.parent",
           "context.extensions", "context.registration", "timestamp", "attachments", "id", "authority", "version"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(_PLACES), value=_JSON, put=st.booleans())
def test_any_value_anywhere_is_never_a_500(sqlite_world: World, place: str, value: Any, put: bool) -> None:
    s: dict[str, Any] = plain(20, context={"contextActivities": {"parent": [{"id": "http://example.com/c"}]}},
                              result={"score": {"raw": 1}})
    *path, last = place.split(".")
    target = s
    for part in path:
        target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
    target[last] = value
    body = json.dumps(s, allow_nan=True).encode()
    if put:
        r = sqlite_world.client.put("/xapi/statements", params={"statementId": str(uuid.uuid4())}, content=body,
                                    headers={**basic(sqlite_world), "Content-Type": "application/json"})
    else:
        r = sqlite_world.client.post("/xapi/statements", content=body,
                                     headers={**basic(sqlite_world), "Content-Type": "application/json"})
    assert r.status_code < 500, (place, value, r.text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), boundary=st.sampled_from(["b", "abc123boundary", ""]))
def test_any_multipart_body_is_never_a_500(sqlite_world: World, body: bytes, boundary: str) -> None:
    framed = f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + body + f"\r\n--{boundary}--".encode()
    for content in (body, framed):
        r = sqlite_world.client.post("/xapi/statements", content=content, headers={
            **basic(sqlite_world), "Content-Type": f"multipart/mixed; boundary={boundary}"})
        assert r.status_code < 500, r.text


def test_statement_queries(sqlite_world: World) -> None:
    """GET /xapi/statements by agent, activity, registration (related_* widening them), verb,
    with `more` paging."""
    w = sqlite_world
    registration = str(uuid.uuid4())
    teacher = {"mbox": "mailto:teacher@example.com"}
    statements = [plain(n, id=str(uuid.uuid4())) for n in range(5)]
    statements[1]["context"] = {"registration": registration, "instructor": teacher,
                                "contextActivities": {"parent": [{"id": "http://example.com/course"}]}}
    statements[2]["object"] = {"objectType": "Agent", "mbox": "mailto:learner0@example.com"}
    assert w.client.post("/xapi/statements", json=statements, headers=basic(w)).status_code == 200

    def ids(**params: str) -> list[str]:
        r = w.client.get("/xapi/statements", params=params, headers=basic(w))
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["statements"]]

    agent0 = json.dumps({"mbox": "mailto:learner0@example.com"})
    assert ids(agent=agent0) == [statements[2]["id"], statements[0]["id"]]  # actor or object, newest first
    assert ids(agent=agent0, ascending="true") == [statements[0]["id"], statements[2]["id"]]
    assert ids(agent=json.dumps(teacher)) == []
    assert ids(agent=json.dumps(teacher), related_agents="true") == [statements[1]["id"]]
    assert ids(activity="http://example.com/activities/3") == [statements[3]["id"]]
    assert ids(activity="http://example.com/course") == []
    assert ids(activity="http://example.com/course", related_activities="true") == [statements[1]["id"]]
    assert ids(registration=registration) == [statements[1]["id"]]
    assert w.client.get("/xapi/statements", params={"agent": "not json"}, headers=basic(w)).status_code == 400
    # paging: two at a time, `more` until the end
    seen, url = [], "/xapi/statements?limit=2&verb=" + ATTENDED
    while url:
        page = w.client.get(url, headers=basic(w)).json()
        assert len(page["statements"]) <= 2
        seen += [s["id"] for s in page["statements"]]
        url = page["more"]
    assert sorted(seen) == sorted(s["id"] for s in statements)


@settings(max_examples=150, deadline=None)
@given(value=_JSON, place=st.sampled_from(["context.extensions.http://example.com/x", "result.extensions.http://e.com/y",
                                           "timestamp", "version", "id", "stored", "authority", "actor"]),
       group=st.booleans())
def test_a_statement_is_stored_as_the_json_of_what_is_given_back(value: Any, place: str, group: bool) -> None:
    """`prepare` writes each statement's stored JSON from its meaning's JSON (made once, for the
    content hash) and what the LRS adds: whatever the statement holds, that text reads back as the
    statement given back, and a group's members in another order keep the content hash."""
    s: dict[str, Any] = plain(30, context={"contextActivities": {"parent": {"id": "http://example.com/c"}}})
    if group:
        s["actor"] = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}]}
    assume("NaN" not in json.dumps(value) and "Infinity" not in json.dumps(value))  # (refused before prepare runs)
    path, last = place.split(".")[:2], place.split(".", 2)[-1]  # (an extension's IRI holds dots)
    path = path if "." in place else []
    target = s
    for part in path:
        target = target.setdefault(part, {})
    target[last] = value
    authority = xapi_store.authority_of("P", "k1", "http://lrs.example/xapi/")
    try:
        [p] = xapi_store.prepare([json.loads(json.dumps(s))], authority)
    except (AttributeError, TypeError, KeyError):  # (a value `check_batch` refuses before prepare runs)
        return
    assert json.loads(p.text) == p.body
    assert p.body["stored"] and p.body["authority"] == authority and "timestamp" in p.body
    if group and place != "actor":
        swapped = json.loads(json.dumps(s))
        swapped["actor"]["member"].reverse()
        assert xapi_store.prepare([swapped], authority)[0].content_sha256 == p.content_sha256
