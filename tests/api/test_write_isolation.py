"""Hostile tenants cannot change what they do not own (issue #14). One platform and one school
build real state — a learner with a person id and an enrolment photo, a course, a session judged
on real faces, a class with a recording — and then another platform, another school, and an
inspectorate of another jurisdiction write to the same names and ids through every write route.
The first tenants' stored state and verdicts must come out unchanged.

The table below must name every write route the API publishes (the test fails otherwise), with
the attack made on it, or why the route cannot reach another tenant's state at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from sqlmodel import select

from models.tables import Course, Learner, LearnerPhoto, Recording, RosterPhoto, TrainingClass
from sample_videos.make_sample import ROSTER, as_sent, make_sample_class
from tests.api.conftest import World
from tests.api.test_faces_api import _session, faces_world  # noqa: F401  (fixture: face checks on, stills enough)

pytestmark = pytest.mark.shared_data
Attack = Callable[["Setup"], None]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_class(tmp_path_factory.mktemp("sample"))


class Setup:
    def __init__(self, w: World, faces: Path, sample: Path) -> None:
        self.w, self.faces, self.sample = w, faces, sample
        self.captures: dict[str, str] = {}

    def capture(self, who: str, picture: Path) -> str:
        r = self.w.client.post("/captures", content=picture.read_bytes(), headers=self.w.h(who))
        assert r.status_code == 201, r.text
        return r.json()["id"]


def _build(s: Setup) -> None:
    """The first tenants' state: plat_p's learner L1 (Obama) judged valid in S1 and S2; inst_a's class."""
    w, faces = s.w, s.faces
    assert w.client.put("/learners/L1", json={"person_id": "410102199001010011"}, headers=w.h("plat_p")).status_code == 200
    assert w.client.put("/learners/L1/photo", content=(faces / "obama" / "1.jpg").read_bytes(),
                        headers=w.h("plat_p")).status_code == 201
    r = w.client.put("/courses/C1", json={"units": ["U1", "U2", "U3"], "blended_for": "Zhengzhou Welding School"},
                     headers=w.h("plat_p"))
    assert r.status_code == 200, r.text
    # C1 is the online theory part of inst_a's blended course W1 (both say so): 4 of 10 hours, within the 40 % cap
    r = w.client.put("/blended-courses/W1", json={"platform": "learn.example", "platform_course": "C1", "total_hours": 10,
                                                  "online_hours": 4}, headers=w.h("inst_a"))
    assert r.status_code == 200, r.text
    c1, c2 = s.capture("plat_p", faces / "obama" / "2.jpg"), s.capture("plat_p", faces / "obama" / "3.jpg")
    s.captures = {"c1": c1, "c2": c2}
    events = _session("S1", "L1", 0, c1, c2)
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).json()["accepted"] == len(events)
    manifest = as_sent({**_manifest(s), "roster": ROSTER})
    klass = w.client.post("/classes", json=manifest, headers=w.h("inst_a"))
    assert klass.status_code == 201, klass.text
    s.class_id = klass.json()["id"]  # type: ignore[attr-defined]
    first = sorted(s.sample.parent.glob("*.mp4"))[0]
    r = w.client.post(f"/classes/{s.class_id}/recordings", params={"name": first.name},  # type: ignore[attr-defined]
                      content=first.read_bytes(), headers={**w.h("inst_a"), "Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    trainee = manifest["roster"][0]["id"]
    r = w.client.put(f"/classes/{s.class_id}/roster/{trainee}/photo", content=(faces / "biden" / "1.jpg").read_bytes(),  # type: ignore[attr-defined]
                     headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    w.wait_jobs()


def _manifest(s: Setup) -> dict[str, Any]:
    import json

    return json.loads(s.sample.read_text(encoding="utf-8"))


def _state(w: World, class_id: str) -> dict[str, Any]:
    """What the first tenants own, as stored: sessions and verdicts, learners, photos, the class."""
    sessions = w.client.get("/sessions", params={"limit": 1000}, headers=w.h("plat_p")).json()
    with w.service.session() as db:
        learners = sorted((r.organisation_id, r.learner_ref, r.person_hash) for r in db.exec(select(Learner)).all()
                          if r.organisation_id == w.orgs["plat_p"])
        photos = sorted((p.learner_id, p.version, p.sha256) for p in db.exec(select(LearnerPhoto)).all()
                        if p.organisation_id == w.orgs["plat_p"])
        klass = db.get(TrainingClass, class_id)
        recordings = sorted((r.id, r.sha256) for r in db.exec(select(Recording).where(Recording.class_id == class_id)).all())
        roster = sorted((p.trainee_id, p.version, p.sha256) for p in db.exec(select(RosterPhoto).where(RosterPhoto.class_id == class_id)).all())
        blended = sorted((c.course_ref, tuple(sorted(c.body.items()))) for c in db.exec(select(Course)).all()
                         if c.organisation_id in (w.orgs["inst_a"], w.orgs["plat_p"]))
    return {"sessions": sorted((x["session"], x["verdict"], x["credited_s"], x["course"],
                                tuple(sorted(f["rule"] for f in x["findings"]))) for x in sessions),
            "learners": learners, "photos": photos, "class": (klass.manifest, klass.organisation_id) if klass else None,
            "recordings": recordings, "roster": roster, "courses": blended}


def _events_as_other(s: Setup) -> None:
    """plat_q sends events with plat_p's event ids, learner and session: a fast-forward and a second window."""
    w = s.w
    events = _session("S1", "L1", 0, None, s.captures["c2"])
    for n, e in enumerate(events):
        e["platform"] = "study.example"
    events.append({"id": events[0]["id"], "type": "seek", "at": events[1]["at"], "learner": "L1", "session": "S1",
                   "platform": "study.example", "course": "C1", "from_s": 0, "to_s": 3000})
    r = w.client.post("/events", json=events, headers=w.h("plat_q"))
    assert r.status_code == 200, r.text


def _xapi_as_other(s: Setup) -> None:
    w = s.w
    statement = {"actor": {"account": {"homePage": "https://learn.example", "name": "L1"}},
                 "verb": {"id": "https://w3id.org/xapi/video/verbs/seeked"},
                 "object": {"id": "https://learn.example/C1/U1", "objectType": "Activity"},
                 "timestamp": "2026-11-20T10:00:00+08:00"}
    for method in ("POST", "PUT"):
        r = w.client.request(method, "/xapi/statements", json=statement, params={"statementId": "0b9a6c3e-1111-4c1e-9a3f-111111111111"}
                             if method == "PUT" else None,
                             headers={**w.h("plat_q"), "X-Experience-API-Version": "1.0.3"})
        assert r.status_code < 500, r.text


def _blended_as_other(s: Setup) -> None:
    """inst_b declares inst_a's course id W1, and plat_p's C1 as its online part, all online (the
    cap would void S1): its own row, and no effect, as plat_p names inst_a on C1. A platform may
    not declare an institution's course at all; plat_q names inst_b on its own C1 only."""
    w = s.w
    hostile = {"platform": "learn.example", "platform_course": "C1", "total_hours": 10, "online_hours": 10}
    _ok(w.client.put("/blended-courses/W1", json=hostile, headers=w.h("inst_b")))
    for who in ("plat_p", "plat_q", "inspector_far"):
        _ok(w.client.put("/blended-courses/W1", json=hostile, headers=w.h(who)), 403)
    _ok(w.client.put("/courses/C1", json={"units": ["U1", "U2", "U3"], "blended_for": "Luoyang Cooking School"},
                     headers=w.h("plat_q")))


ATTACKS: dict[tuple[str, str], Attack | str] = {
    ("POST", "/events"): _events_as_other,
    ("POST", "/xapi/statements"): _xapi_as_other,
    ("PUT", "/xapi/statements"): _xapi_as_other,
    ("PUT", "/courses/{course_ref}"): lambda s: _ok(s.w.client.put("/courses/C1", json={"units": ["U3", "U2", "U1"],
                                                                                            "total_hours": 1, "online_hours": 1},
                                                                  headers=s.w.h("plat_q"))),
    ("PUT", "/blended-courses/{course_ref}"): _blended_as_other,
    ("POST", "/assessments"): lambda s: _ok(s.w.client.post("/assessments", json=[
        {"learner": "L1", "course": "OTHER", "assessed_at": None}], headers=s.w.h("plat_q"))),
    ("PUT", "/learners/{learner}"): lambda s: _ok(s.w.client.put("/learners/L1", json={"person_id": "410102199912319999"},
                                                                 headers=s.w.h("plat_q"))),
    ("PUT", "/learners/{learner}/photo"): lambda s: _ok(s.w.client.put(
        "/learners/L1/photo", content=(s.faces / "biden" / "2.jpg").read_bytes(), headers=s.w.h("plat_q")), 201),
    ("POST", "/captures"): lambda s: _ok(s.w.client.post("/captures", content=(s.faces / "biden" / "2.jpg").read_bytes(),
                                                         headers=s.w.h("plat_q")), 201),
    ("POST", "/challenges"): lambda s: _ok(s.w.client.post("/challenges", json={
        "learner": "L1", "session": "S1", "start": "2026-11-20T08:00:00+08:00", "planned_s": 7200}, headers=s.w.h("plat_q")), 201),
    ("POST", "/classes"): lambda s: _ok(s.w.client.post("/classes", json=as_sent(_manifest(s)), headers=s.w.h("inst_b")), 201),
    ("PUT", "/classes/{class_id}/roster/{trainee_id}/photo"): lambda s: _ok(s.w.client.put(
        f"/classes/{s.class_id}/roster/{ROSTER[0]['id']}/photo",  # type: ignore[attr-defined]
        content=(s.faces / "obama" / "1.jpg").read_bytes(), headers=s.w.h("inst_b")), 404),
    ("POST", "/classes/{class_id}/recordings"): lambda s: _ok(s.w.client.post(
        f"/classes/{s.class_id}/recordings", params={"name": "x.mp4"}, content=b"\x00" * 100,  # type: ignore[attr-defined]
        headers={**s.w.h("inst_b"), "Content-Type": "application/octet-stream"}), 404),
    ("POST", "/classes/{class_id}/uploads"): lambda s: _ok(s.w.client.post(
        f"/classes/{s.class_id}/uploads", json={"name": "x.mp4", "size_bytes": 100}, headers=s.w.h("inst_b")), 404),  # type: ignore[attr-defined]
    ("POST", "/classes/{class_id}/analyses"): lambda s: _ok(s.w.client.post(
        f"/classes/{s.class_id}/analyses", params={"photos": "latest"}, headers=s.w.h("inst_b")), 404),  # type: ignore[attr-defined]
    ("POST", "/classes/{class_id}/overrides"): lambda s: [_ok(s.w.client.post(
        f"/classes/{s.class_id}/overrides", json={"parameters": {"practical_min_continuous_s": 1}, "reason": "mine"},  # type: ignore[attr-defined]
        headers=s.w.h(who)), 403) for who in ("inst_a", "inst_b", "plat_q", "inspector_far")],
    ("POST", "/jurisdictions/{jurisdiction}/overrides"): lambda s: [_ok(s.w.client.post(
        "/jurisdictions/zhengzhou/overrides", json={"parameters": {"face_match_tolerance": 0.99}, "reason": "mine"},
        headers=s.w.h(who)), 403) for who in ("inst_a", "plat_q", "inspector_far")],
    # Class periods (#17): inspectors only in their own jurisdiction (the class is the demo's), institutions only their own.
    ("POST", "/classes/{class_id}/checks"): lambda s: [_ok(s.w.client.post(
        f"/classes/{s.class_id}/checks", json={"at": "2026-11-20T08:10:00+08:00", "present": 1},  # type: ignore[attr-defined]
        headers=s.w.h(who)), status) for who, status in (("inst_a", 403), ("inst_b", 403), ("plat_q", 403),
                                                         ("inspector_far", 404))],
    ("PUT", "/classes/{class_id}/assessment"): lambda s: _ok(s.w.client.put(
        f"/classes/{s.class_id}/assessment", json={"assessed_at": "2026-11-21T08:00:00+08:00"},  # type: ignore[attr-defined]
        headers=s.w.h("inst_b")), 404),
    ("POST", "/classes/{class_id}/absences"): lambda s: _ok(s.w.client.post(
        f"/classes/{s.class_id}/absences", json={"trainee": ROSTER[0]["id"], "hour": 1, "reason": "mine"},  # type: ignore[attr-defined]
        headers=s.w.h("inst_b")), 404),
    ("POST", "/classes/{class_id}/absences/{absence_id}/acceptance"): lambda s: [_ok(s.w.client.post(
        f"/classes/{s.class_id}/absences/1/acceptance", headers=s.w.h(who)), status)  # type: ignore[attr-defined]
        for who, status in (("inst_b", 403), ("inspector_far", 404))],
    ("POST", "/late-registrations"): lambda s: [_ok(s.w.client.post(
        "/late-registrations", json={"institution_id": s.w.orgs["inst_a"], "class_ref": "LATE", "reason": "mine"},
        headers=s.w.h(who)), 403) for who in ("inst_a", "inst_b", "plat_q", "inspector_far")],
    ("PATCH", "/uploads/{upload_id}"): "an upload id is found within the caller's organisation (test_classes_api: resumable)",
    ("POST", "/uploads/{upload_id}/finish"): "as PATCH /uploads/{upload_id}",
    ("POST", "/flags/{flag_id}/decisions"): "inspectors only (test_access); a decision is appended, never edits a verdict "
                                            "(a finding the flag lacks is a 422: test_decisions_api)",
    ("POST", "/flags/{flag_id}/withdrawals"): "inspectors only (test_access): withdraws only the caller's own decisions of "
                                              "the last minute on that flag, 409 otherwise and nothing written "
                                              "(test_decisions_api)",
    ("POST", "/sessions/{session_id}/rejudge"): "inspectors only (test_access)",
    ("POST", "/admin/organisations"): "admins only (test_access)",
    ("PATCH", "/admin/organisations/{organisation_id}"): "admins only (test_access)",
    ("POST", "/admin/organisations/{organisation_id}/keys"): "admins only (test_access)",
    ("DELETE", "/admin/keys/{key_id}"): "admins only (test_access); revocation by route: test_hardening",
    ("POST", "/admin/organisations/{organisation_id}/xapi-origins"): "admins only (test_access)",
    ("DELETE", "/admin/organisations/{organisation_id}/xapi-origins"): "admins only (test_access)",
    ("POST", "/ui/sign-in"): "pages: a sign-in writes nothing but the caller's own cookie",
    ("POST", "/ui/flags/{flag_id}/decide"): "pages, inspectors only, CSRF-checked: decisions appended (finding keys checked "
                                            "against the flag's own findings), never edits a verdict",
    ("POST", "/ui/flags/{flag_id}/undo"): "pages, inspectors only, CSRF-checked: withdraws only the caller's own decisions "
                                          "of the last minute on that flag (409 otherwise; test_workbench)",
    ("POST", "/ui/queue/bulk"): "pages, inspectors only, CSRF-checked: only for a rule that needs no judgement "
                                "(test_workbench), decisions appended",
}


def _ok(response: Any, status: int = 200) -> None:
    assert response.status_code == status, (response.request.method, response.request.url, response.text)


def _write_routes(w: World) -> set[tuple[str, str]]:
    paths = w.client.get("/openapi.json").json()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops if m.upper() in ("POST", "PUT", "PATCH", "DELETE")}


def test_every_write_route_is_in_the_isolation_table(sqlite_world: World) -> None:
    missing = _write_routes(sqlite_world) - set(ATTACKS)
    assert not missing, f"write routes without an isolation attack or reason: {sorted(missing)}"


def test_another_tenant_changes_nothing_it_does_not_own(faces_world: World, shared_data: Path, sample: Path) -> None:  # noqa: F811
    w = faces_world
    # An inspectorate of another jurisdiction: it may not set Zhengzhou's numbers.
    from api.store.keys import create_key, create_organisation

    with w.service.session() as db:
        far = create_organisation(db, "Sanmenxia Inspectorate", "inspectorate", by="test", jurisdiction="sanmenxia")
        w.keys["inspector_far"] = create_key(db, far, "far inspector", by="test")[1]
    s = Setup(w, shared_data / "faces", sample)
    _build(s)
    before = _state(w, s.class_id)  # type: ignore[attr-defined]
    assert [x[1] for x in before["sessions"]] == ["valid"], before["sessions"]
    for route in sorted(_write_routes(w)):
        attack = ATTACKS[route]
        if callable(attack):
            attack(s)
    w.wait_jobs()
    # Judge plat_p's learner again from scratch, as an inspector may: the verdicts must still stand.
    for session in w.client.get("/sessions", headers=w.h("plat_p")).json():
        assert w.client.post(f"/sessions/{session['id']}/rejudge", headers=w.h("inspector")).status_code == 202
    w.wait_jobs()
    after = _state(w, s.class_id)  # type: ignore[attr-defined]
    assert after == before
    # The hostile writes landed on the hostile tenants' own objects.
    theirs = w.client.get("/sessions", headers=w.h("plat_q")).json()
    assert theirs and all(x["learner"] == "L1" for x in theirs)
    assert len(w.client.get("/classes", headers=w.h("inst_b")).json()) == 1
