"""Who may do what, on every route: no or bad key -> 401, wrong role -> 403, another tenant's
object -> 404 exactly as one that does not exist. The table below must name every route, so a
new route cannot be added without saying who may call it."""

from __future__ import annotations

import pytest

from sample_videos.make_sample import as_sent
from tests.api.conftest import World

ROLES = ("institution", "platform", "inspector", "admin")
KEY_OF_ROLE = {"institution": "inst_a", "platform": "plat_p", "inspector": "inspector", "admin": "admin"}
ACCESS: dict[tuple[str, str], set[str]] = {
    ("POST", "/classes"): {"institution"},
    ("GET", "/classes"): {"institution", "inspector"},
    ("GET", "/classes/{class_id}"): {"institution", "inspector"},
    ("PUT", "/classes/{class_id}/roster/{trainee_id}/photo"): {"institution"},
    ("POST", "/classes/{class_id}/recordings"): {"institution"},
    ("GET", "/classes/{class_id}/recordings"): {"institution", "inspector"},
    ("POST", "/classes/{class_id}/analyses"): {"institution", "inspector"},
    ("GET", "/classes/{class_id}/report"): {"institution", "inspector"},
    ("GET", "/jobs/{job_id}"): {"institution", "inspector"},
    ("GET", "/classes/{class_id}/period"): {"institution", "inspector"},
    ("POST", "/classes/{class_id}/checks"): {"inspector"},
    ("PUT", "/classes/{class_id}/assessment"): {"institution"},
    ("POST", "/classes/{class_id}/absences"): {"institution"},
    ("POST", "/classes/{class_id}/absences/{absence_id}/acceptance"): {"inspector"},
    ("POST", "/late-registrations"): {"admin", "inspector"},
    ("POST", "/classes/{class_id}/uploads"): {"institution"},
    ("GET", "/uploads/{upload_id}"): {"institution"},
    ("PATCH", "/uploads/{upload_id}"): {"institution"},
    ("POST", "/uploads/{upload_id}/finish"): {"institution"},
    ("POST", "/events"): {"platform"},
    ("PUT", "/courses/{course_ref}"): {"platform"},
    ("PUT", "/blended-courses/{course_ref}"): {"institution"},
    ("POST", "/assessments"): {"platform"},
    ("PUT", "/learners/{learner}/photo"): {"platform"},
    ("PUT", "/learners/{learner}"): {"platform"},
    ("POST", "/jurisdictions/{jurisdiction}/overrides"): {"admin", "inspector"},
    ("POST", "/classes/{class_id}/overrides"): {"admin", "inspector"},
    ("PATCH", "/admin/organisations/{organisation_id}"): {"admin"},
    ("GET", "/judging/failures"): {"inspector"},
    ("POST", "/sessions/{session_id}/rejudge"): {"inspector"},
    ("POST", "/captures"): {"platform"},
    ("POST", "/challenges"): {"platform"},
    ("GET", "/sessions"): {"platform", "inspector"},
    ("GET", "/sessions/{session_id}"): {"platform", "inspector"},
    ("GET", "/flags"): {"inspector"},
    ("GET", "/flags/{flag_id}"): {"inspector"},
    ("POST", "/flags/{flag_id}/decisions"): {"inspector"},
    ("GET", "/flags/{flag_id}/decisions"): {"inspector"},
    ("POST", "/flags/{flag_id}/withdrawals"): {"inspector"},
    ("POST", "/admin/organisations"): {"admin"},
    ("GET", "/admin/organisations"): {"admin"},
    ("POST", "/admin/organisations/{organisation_id}/keys"): {"admin"},
    ("GET", "/admin/keys"): {"admin"},
    ("DELETE", "/admin/keys/{key_id}"): {"admin"},
    ("GET", "/admin/organisations/{organisation_id}/xapi-origins"): {"admin"},
    ("POST", "/admin/organisations/{organisation_id}/xapi-origins"): {"admin"},
    ("DELETE", "/admin/organisations/{organisation_id}/xapi-origins"): {"admin"},
    ("GET", "/xapi/statements"): {"platform"},
    ("HEAD", "/xapi/statements"): {"platform"},
    ("POST", "/xapi/statements"): {"platform"},
    ("PUT", "/xapi/statements"): {"platform"},
    ("GET", "/audit"): {"admin", "inspector"},
    ("GET", "/me"): set(ROLES),
}
# xAPI 1.0.3 makes /about public; /xapi/profile is the published supervision profile.
OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/xapi/about", "/xapi/profile"}


def _routes(w: World) -> set[tuple[str, str]]:
    """Every operation the app publishes in its OpenAPI schema."""
    paths = w.client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() if path not in OPEN for method in operations}


def _call(w: World, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    # The xAPI version header as every xAPI client sends it (its routes refuse a request without one).
    return w.client.request(method, path.replace("{", "").replace("}", ""),
                            headers={"X-Experience-API-Version": "1.0.3", **headers}, json={})


def test_every_route_is_in_the_access_table(sqlite_world: World) -> None:
    assert _routes(sqlite_world) == set(ACCESS)


@pytest.mark.parametrize("route", sorted(ACCESS), ids=lambda r: f"{r[0]} {r[1]}")
def test_keys_and_roles_are_checked_first(sqlite_world: World, route: tuple[str, str]) -> None:
    w, (method, path) = sqlite_world, route
    for headers in ({}, {"Authorization": "Bearer tm_0000000000000000_wrong"}, {"Authorization": "Basic abc"},
                    {"X-API-Key": w.keys["inst_a"] + "x"}):
        r = _call(w, method, path, headers)
        assert r.status_code == 401, (headers, r.text)
        if method != "HEAD":  # a HEAD answer has no body
            assert r.headers["content-type"] == "application/problem+json" and r.json()["status"] == 401
    for role in ROLES:
        r = _call(w, method, path, w.h(KEY_OF_ROLE[role]))
        if role in ACCESS[route]:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert r.status_code == 403 and (method == "HEAD" or role in r.json()["detail"]), (role, r.text)


def test_a_revoked_key_is_refused(sqlite_world: World) -> None:
    from api.store.keys import revoke_key
    from models.tables import ApiKey

    w = sqlite_world
    assert w.client.get("/me", headers=w.h("inst_a")).status_code == 200
    with w.service.session() as db:
        key_id = w.keys["inst_a"].split("_")[1]
        revoke_key(db, db.get(ApiKey, key_id), by="test")
    assert w.client.get("/me", headers=w.h("inst_a")).status_code == 401


def test_another_tenants_objects_are_not_found(sqlite_world: World) -> None:
    w = sqlite_world
    manifest = {"class_id": "A-1", "teachers": [{"id": "E1"}],
                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                              "end": "2026-11-20T08:45:00+08:00"}],
                "roster": [{"id": "T1", "name": "张伟"}]}
    klass = w.client.post("/classes", json=as_sent(manifest), headers=w.h("inst_a")).json()["id"]
    upload = w.client.post(f"/classes/{klass}/uploads", json={"name": "a.mp4"}, headers=w.h("inst_a")).json()["id"]
    job = w.client.post(f"/classes/{klass}/analyses", headers=w.h("inst_a")).json()["id"]
    w.wait_jobs()
    requests = [("GET", f"/classes/{klass}"), ("GET", f"/classes/{klass}/report"), ("GET", f"/classes/{klass}/recordings"),
                ("POST", f"/classes/{klass}/recordings?name=x"), ("POST", f"/classes/{klass}/analyses"),
                ("PUT", f"/classes/{klass}/roster/T1/photo"), ("POST", f"/classes/{klass}/uploads"),
                ("GET", f"/uploads/{upload}"), ("PATCH", f"/uploads/{upload}"), ("POST", f"/uploads/{upload}/finish"),
                ("GET", f"/jobs/{job}")]
    for method, path in requests:
        theirs = w.client.request(method, path, headers={**w.h("inst_b"), "Upload-Offset": "0"}, json={"name": "x"})
        missing = w.client.request(method, path.replace(klass, "0" * 32).replace(upload, "0" * 32).replace(job, "0" * 32),
                                   headers={**w.h("inst_b"), "Upload-Offset": "0"}, json={"name": "x"})
        assert theirs.status_code == 404, (method, path, theirs.text)
        assert (theirs.json()["title"], missing.status_code) == ("Not Found", 404)
    assert w.client.get(f"/jobs/{job}", headers=w.h("inst_a")).json()["status"] == "done"
