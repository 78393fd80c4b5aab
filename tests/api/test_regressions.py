"""What generated requests (schemathesis) found, kept as plain tests."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import World


def test_paging_numbers_too_large_for_the_database_are_a_422(sqlite_world: World) -> None:
    # Found by schemathesis: offset=2**64 reached SQLite and failed there ("Python int too large").
    w = sqlite_world
    for path, who in ((f"/classes?offset={2**64}", "inst_a"), (f"/audit?before={2**64}", "admin")):
        r = w.client.get(path, headers=w.h(who))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (path, r.text)


def test_a_405_names_every_method_of_the_path(sqlite_world: World) -> None:
    # Found by schemathesis (ST205): GET and PATCH /uploads/{id} are two routes; Starlette's 405
    # named only the first one's methods.
    r = sqlite_world.client.request("OPTIONS", "/uploads/anything", headers=sqlite_world.h("inst_a"))
    assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH"
    assert r.headers["content-type"] == "application/problem+json"


def test_a_number_is_no_date_and_time(sqlite_world: World) -> None:
    # Found by schemathesis (ST201): pydantic read 0 and "0.5" as seconds since 1970.
    w = sqlite_world
    answers = {
        "challenge start": w.client.post("/challenges", json={"learner": "L", "session": "S", "start": 0, "planned_s": 60},
                                         headers=w.h("plat_p")),
        "assessment": w.client.post("/assessments", json=[{"learner": "L", "course": "C", "assessed_at": 0}],
                                    headers=w.h("plat_p")),
        "sessions since": w.client.get("/sessions?since=0.5", headers=w.h("plat_p")),
        "flags until": w.client.get("/flags?until=0.5", headers=w.h("inspector")),
    }
    assert {name: r.status_code for name, r in answers.items()} == {name: 422 for name in answers}
    ok = w.client.get("/sessions?since=2026-11-20T09:00:00%2B08:00", headers=w.h("plat_p"))
    assert ok.status_code == 200


def test_a_database_out_of_reach_is_a_503_to_come_back_not_a_500(tmp_path: Path) -> None:
    # Found by the chaos run (bench/chaos.py): PostgreSQL restarting answered every request 500.
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import settings_for

    closed = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # the discard port: nothing listens
    with TestClient(create_app(settings_for(closed, tmp_path / "data"), start_worker=False),
                    raise_server_exceptions=False) as client:
        r = client.get("/classes", headers={"Authorization": "Bearer tm_0123456789abcdef_" + "a" * 43})
    assert r.status_code == 503 and r.headers["retry-after"] == "2", r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/database-unavailable" and "Traceback" not in r.text


def test_a_full_batch_of_assessments_is_one_write_and_the_last_of_a_key_wins(world: World) -> None:
    # Found by schemathesis: 10,000 assessments (the most a batch may hold) were written one
    # statement each and outlasted the client's 10-s timeout. Now one upsert, on both databases,
    # with a key repeated in the batch (which one multi-row upsert on PostgreSQL cannot take twice).
    from sqlmodel import select

    from models.tables import Assessment

    w = world
    batch = [{"learner": f"L{n % 2000}", "course": "C", "assessed_at": f"2026-10-{1 + n // 2000:02d}T09:00:00+08:00"}
             for n in range(10_000)]
    r = w.client.post("/assessments", json=batch, headers=w.h("plat_p"))
    assert r.status_code == 200 and r.json() == {"stored": 10_000}, r.text[:300]
    with w.service.session() as db:
        rows = db.exec(select(Assessment).where(Assessment.learner == "L7")).all()
    assert [row.assessed_at.day for row in rows] == [5]  # the fifth round of the batch, sent last


def test_a_nul_or_a_lone_surrogate_in_a_course_or_a_class_is_a_422_on_every_database(world: World) -> None:
    """PostgreSQL's text holds no NUL and no driver encodes a lone surrogate: a course (the
    platform's, or an institution's blended one) naming either was a 500 there (#17)."""
    import json

    w = world

    def put(path: str, who: str, body: dict[str, object]) -> int:
        return w.client.put(path, content=json.dumps(body), headers={**w.h(who), "Content-Type": "application/json"}).status_code

    blended = {"platform": "learn.example", "platform_course": "C1", "total_hours": 10, "online_hours": 4}
    for odd in ("a\u0000b", "\ud800"):
        for field in ("platform", "platform_course", "occupation"):
            assert put("/blended-courses/W1", "inst_a", {**blended, field: odd}) == 422, (field, odd)
        assert put("/courses/C1", "plat_p", {"units": ["U1", odd]}) == 422, odd
        assert put("/courses/C1", "plat_p", {"units": ["U1"], "blended_for": odd}) == 422, odd
    assert put("/blended-courses/W%001", "inst_a", blended) == 422
    assert put("/courses/C%001", "plat_p", {"units": ["U1"]}) == 422
    assert put("/blended-courses/W1", "inst_a", blended) == 200 and put("/courses/C1", "plat_p", {"units": ["U1"]}) == 200
    # a class too (its id, a trainee's name)
    klass = {"class_id": "A-1", "teachers": [{"id": "E1"}], "roster": [{"id": "T1", "name": "张伟"}],
             "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00", "end": "2026-11-20T08:45:00+08:00"}]}
    for odd in ({**klass, "class_id": "A\u0000"}, {**klass, "roster": [{"id": "T1", "name": "\ud800"}]}):
        r = w.client.post("/classes", content=json.dumps(odd), headers={**w.h("inst_a"), "Content-Type": "application/json"})
        assert r.status_code == 422, r.text


def test_a_nul_is_refused_where_it_stands_and_nothing_else_with_it_on_every_database(world: World) -> None:
    """PostgreSQL's text holds no NUL: a query naming one, an event's learner, a statement's
    agent or a key's person holding one were 500s there (and silently stored or missed on SQLite).
    Now a NUL is refused where it stands: the query with a 422 before any route, the one event
    (the batch's others stored), the xAPI batch as a whole (xAPI's all-or-nothing rule), the
    key with a 422; and the same on both databases."""
    import json

    from tests.api.test_xapi_api import basic, plain

    w = world
    r = w.client.get("/sessions", params={"learner": "L\x001"}, headers=w.h("plat_p"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert "NUL" in r.json()["detail"]

    good = {"id": "e-good", "type": "session_start", "at": "2026-11-20T08:00:00+08:00", "learner": "L1", "session": "S1",
            "course": "C1", "unit": "U1", "platform": "learn.example"}
    bad = {**good, "id": "e-bad", "learner": "L\x001"}
    for body, content_type in ((json.dumps([good, bad]), "application/json"),
                               (json.dumps({**good, "id": "e-good-2"}) + "\n" + json.dumps({**bad, "id": "e-bad-2"}),
                                "application/x-ndjson")):
        r = w.client.post("/events", content=body, headers={**w.h("plat_p"), "Content-Type": content_type})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["accepted"] == 1 and [(x["field"], x["line"]) for x in answer["rejected"]] == [("learner", 2)], answer

    statements = [plain(1, id="6f1f9a52-0000-4000-8000-000000000001"),
                  plain(2, id="6f1f9a52-0000-4000-8000-000000000002", actor={"account": {"homePage": "https://learn.example",
                                                                                        "name": "L\x001"}})]
    r = w.client.post("/xapi/statements", json=statements, headers=basic(w))
    assert r.status_code == 400 and r.json()["errors"][0]["statement"] == "1", r.text
    assert "NUL" in r.json()["errors"][0]["message"], r.text
    first = w.client.get("/xapi/statements", params={"statementId": statements[0]["id"]}, headers=basic(w))
    assert first.status_code == 404, first.text  # the batch was refused as a whole

    r = w.client.post(f"/admin/organisations/{w.orgs['plat_p']}/keys", json={"person": "a\x00b"}, headers=w.h("admin"))
    assert r.status_code == 422, r.text
