"""Issue #19, item 5: every write leaves an audit entry naming the acting key and its organisation.

The walk below makes one successful call of every write route the OpenAPI schema publishes (the
test fails when a write route is missing from it), in an order where each finds what it needs,
and checks that the call added an entry with the caller's key id and organisation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from sqlmodel import func, select

from models.tables import AuditEntry, Flag, LearnerSession
from sample_videos.make_sample import make_sample_class
from tests.api.conftest import World, make_world
from tests.monitor.online.builders import clean_session

pytestmark = pytest.mark.shared_data
XAPI = {"X-Experience-API-Version": "1.0.3"}
STATEMENT = {"actor": {"mbox": "mailto:learner@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
             "object": {"id": "https://learn.example/activities/intro"}}
MANIFEST = {"class_id": "AUDIT-1", "teachers": [{"id": "E1"}],
            "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                          "end": "2026-11-20T08:45:00+08:00"}], "roster": [{"id": "T1", "name": "张伟"}]}


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    sample = make_sample_class(tmp_path_factory.mktemp("sample"))
    return min(sample.parent.glob("*.mp4"), key=lambda p: p.stat().st_size).read_bytes()


@pytest.fixture
def audit_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(sqlite_url, tmp_path / "data")


@dataclass
class Walk:
    w: World
    faces: Path
    video: bytes
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.w.h(who), **kw.pop("headers", {})}
        return self.w.client.request(method, path, headers=headers, **kw)


def _events(s: Walk) -> httpx.Response:
    r = s.call("plat_p", "POST", "/events", json=clean_session(platform="learn.example", session="S1", learner="L1").events)
    s.w.wait_jobs()
    return r


def _finish(s: Walk) -> httpx.Response:
    return s.call("inst_a", "POST", f"/uploads/{s.ids['upload']}/finish")


def _flag(s: Walk) -> str:
    """A flag to decide on (made directly: which evidence raises one is other tests' business)."""
    with s.w.service.session() as db:
        flag = Flag(subject_kind="session", subject_key="audit-walk", subject_id="x", organisation_id=s.w.orgs["plat_p"],
                    verdict="invalid", rules=["online.fast_forward"], subject_start=datetime.now(timezone.utc))
        db.add(flag)
        db.commit()
        return flag.id


Step = tuple[tuple[str, str], str, Callable[[Walk], httpx.Response]]
STEPS: list[Step] = [
    (("POST", "/classes"), "inst_a", lambda s: s.call("inst_a", "POST", "/classes", json=MANIFEST)),
    (("PUT", "/classes/{class_id}/roster/{trainee_id}/photo"), "inst_a", lambda s: s.call(
        "inst_a", "PUT", f"/classes/{s.ids['class']}/roster/T1/photo", content=(s.faces / "obama" / "1.jpg").read_bytes())),
    (("POST", "/classes/{class_id}/recordings"), "inst_a", lambda s: s.call(
        "inst_a", "POST", f"/classes/{s.ids['class']}/recordings", params={"name": "one.mp4"}, content=s.video,
        headers={"Content-Type": "application/octet-stream"})),
    (("POST", "/classes/{class_id}/uploads"), "inst_a", lambda s: s.call(
        "inst_a", "POST", f"/classes/{s.ids['class']}/uploads", json={"name": "two.mp4"})),
    (("PATCH", "/uploads/{upload_id}"), "inst_a", lambda s: s.call(
        "inst_a", "PATCH", f"/uploads/{s.ids['upload']}", content=s.video, headers={"Upload-Offset": "0"})),
    (("POST", "/uploads/{upload_id}/finish"), "inst_a", _finish),
    (("POST", "/classes/{class_id}/analyses"), "inst_a", lambda s: s.call("inst_a", "POST", f"/classes/{s.ids['class']}/analyses")),
    (("POST", "/classes/{class_id}/checks"), "inspector", lambda s: s.call(
        "inspector", "POST", f"/classes/{s.ids['class']}/checks",
        json={"at": "2026-11-20T08:20:00+08:00", "present": 1, "absent": [], "note": "walk"})),
    (("POST", "/classes/{class_id}/absences"), "inst_a", lambda s: s.call(
        "inst_a", "POST", f"/classes/{s.ids['class']}/absences", json={"trainee": "T1", "hour": 1, "reason": "sick note"})),
    (("POST", "/classes/{class_id}/absences/{absence_id}/acceptance"), "inspector", lambda s: s.call(
        "inspector", "POST", f"/classes/{s.ids['class']}/absences/{s.ids['absence']}/acceptance")),
    (("PUT", "/classes/{class_id}/assessment"), "inst_a", lambda s: s.call(
        "inst_a", "PUT", f"/classes/{s.ids['class']}/assessment", json={"assessed_at": "2026-11-21T09:00:00+08:00"})),
    (("POST", "/late-registrations"), "admin", lambda s: s.call(
        "admin", "POST", "/late-registrations", json={"institution_id": s.w.orgs["inst_a"], "class_ref": "AUDIT-LATE",
                                                      "reason": "the walk"})),
    (("POST", "/jurisdictions/{jurisdiction}/overrides"), "admin", lambda s: s.call(
        "admin", "POST", "/jurisdictions/zhengzhou/overrides", json={"parameters": {"face_liveness": "still"}, "reason": "walk"})),
    (("POST", "/classes/{class_id}/overrides"), "admin", lambda s: s.call(
        "admin", "POST", f"/classes/{s.ids['class']}/overrides", json={"parameters": {"face_liveness": "still"}, "reason": "walk"})),
    (("PUT", "/courses/{course_ref}"), "plat_p", lambda s: s.call("plat_p", "PUT", "/courses/C1", json={"units": ["U1", "U2"]})),
    (("PUT", "/blended-courses/{course_ref}"), "inst_a", lambda s: s.call(
        "inst_a", "PUT", "/blended-courses/W1", json={"platform": "learn.example", "platform_course": "C1",
                                                     "total_hours": 10, "online_hours": 4})),
    (("POST", "/events"), "plat_p", _events),
    (("POST", "/assessments"), "plat_p", lambda s: s.call(
        "plat_p", "POST", "/assessments", json=[{"learner": "L1", "course": "C1", "assessed_at": "2026-11-20T12:00:00+08:00"}])),
    (("PUT", "/learners/{learner}"), "plat_p", lambda s: s.call("plat_p", "PUT", "/learners/L1", json={"person_id": "410102199001010011"})),
    (("PUT", "/learners/{learner}/photo"), "plat_p", lambda s: s.call(
        "plat_p", "PUT", "/learners/L1/photo", content=(s.faces / "obama" / "2.jpg").read_bytes())),
    (("POST", "/captures"), "plat_p", lambda s: s.call("plat_p", "POST", "/captures", content=(s.faces / "obama" / "3.jpg").read_bytes())),
    (("POST", "/challenges"), "plat_p", lambda s: s.call(
        "plat_p", "POST", "/challenges", json={"learner": "L1", "session": "S9", "start": "2026-11-20T08:00:00+08:00", "planned_s": 3600})),
    (("POST", "/xapi/statements"), "plat_p", lambda s: s.call("plat_p", "POST", "/xapi/statements", json=STATEMENT, headers=XAPI)),
    (("PUT", "/xapi/statements"), "plat_p", lambda s: s.call(
        "plat_p", "PUT", "/xapi/statements", params={"statementId": "7f1d0c4e-2b9a-4c3e-9f1a-0123456789ab"}, json=STATEMENT,
        headers=XAPI)),
    (("POST", "/sessions/{session_id}/rejudge"), "inspector", lambda s: s.call("inspector", "POST", f"/sessions/{s.ids['session']}/rejudge")),
    (("POST", "/flags/{flag_id}/decisions"), "inspector", lambda s: s.call(
        "inspector", "POST", f"/flags/{_flag(s)}/decisions", json={"outcome": "confirmed", "note": "seen"})),
    (("POST", "/flags/{flag_id}/withdrawals"), "inspector", lambda s: s.call(
        "inspector", "POST", f"/flags/{s.ids['flag']}/withdrawals", json={"decisions": [s.ids["decision"]]})),
    (("POST", "/admin/organisations"), "admin", lambda s: s.call(
        "admin", "POST", "/admin/organisations", json={"name": "Walk School", "kind": "institution"})),
    (("PATCH", "/admin/organisations/{organisation_id}"), "admin", lambda s: s.call(
        "admin", "PATCH", f"/admin/organisations/{s.ids['org']}", json={"jurisdiction": "sanmenxia"})),
    (("POST", "/admin/organisations/{organisation_id}/keys"), "admin", lambda s: s.call(
        "admin", "POST", f"/admin/organisations/{s.ids['org']}/keys", json={"person": "walker"})),
    (("DELETE", "/admin/keys/{key_id}"), "admin", lambda s: s.call("admin", "DELETE", f"/admin/keys/{s.ids['key']}")),
    (("POST", "/admin/organisations/{organisation_id}/xapi-origins"), "admin", lambda s: s.call(
        "admin", "POST", f"/admin/organisations/{s.w.orgs['plat_p']}/xapi-origins", json={"origin": "https://player.example"})),
    (("DELETE", "/admin/organisations/{organisation_id}/xapi-origins"), "admin", lambda s: s.call(
        "admin", "DELETE", f"/admin/organisations/{s.w.orgs['plat_p']}/xapi-origins", params={"origin": "https://player.example"})),
]


def _remember(s: Walk, route: tuple[str, str], r: httpx.Response) -> None:
    """Ids later steps need."""
    if route == ("POST", "/classes"):
        s.ids["class"] = r.json()["id"]
    elif route == ("POST", "/classes/{class_id}/uploads"):
        s.ids["upload"] = r.json()["id"]
    elif route == ("POST", "/flags/{flag_id}/decisions"):
        s.ids["flag"], s.ids["decision"] = r.json()["flag_id"], r.json()["id"]
    elif route == ("POST", "/classes/{class_id}/absences"):
        s.ids["absence"] = str(r.json()["id"])
    elif route == ("POST", "/events"):
        with s.w.service.session() as db:
            s.ids["session"] = db.exec(select(LearnerSession.id)).first()  # type: ignore[assignment]
    elif route == ("POST", "/admin/organisations"):
        s.ids["org"] = r.json()["id"]
    elif route == ("POST", "/admin/organisations/{organisation_id}/keys"):
        s.ids["key"] = r.json()["id"]


def _last_id(w: World) -> int:
    with w.service.session() as db:
        return db.exec(select(func.max(AuditEntry.id))).one() or 0


def test_every_write_route_leaves_an_audit_entry_with_the_key(audit_world: World, shared_data: Path, video: bytes) -> None:
    w = audit_world
    w.place("inspector", "demo")  # the inspectorate of the schools' jurisdiction records checks and accepts leaves
    paths = w.client.get("/openapi.json").json()["paths"]
    writes = {(m.upper(), p) for p, ops in paths.items() for m in ops if m.upper() in ("POST", "PUT", "PATCH", "DELETE")}
    assert writes == {route for route, _, _ in STEPS}, "every write route needs a step in STEPS"
    s = Walk(w, shared_data / "faces", video)
    for route, who, step in STEPS:
        before = _last_id(w)
        r = step(s)
        assert r.status_code < 300, (route, r.status_code, r.text)
        _remember(s, route, r)
        with w.service.session() as db:
            entries = db.exec(select(AuditEntry).where(AuditEntry.id > before)).all()  # type: ignore[operator]
        key_id = w.keys[who].split("_")[1]
        mine = [e for e in entries if e.key_id == key_id and e.organisation_id == w.orgs[who]]
        assert mine, (route, [(e.action, e.key_id) for e in entries])
    acknowledged = w.client.get(f"/classes/{s.ids['class']}/recordings", headers=w.h("inst_a")).json()
    assert hashlib.sha256(video).hexdigest() in {x["sha256"] for x in acknowledged}
