"""A class period through the API (#17): the opening application (a late one refused unless the
authority accepts it), inspectors' signed on-site checks and accepted leaves, the class's
assessment, the period's attendance and subsidisable headcount, and the person rules over one
person's classes and online sessions (the ID number kept only as a keyed hash)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlmodel import select

from models.tables import AuditEntry, ClassReportRecord, ClassTrainee
from models.types import utcnow
from tests.api.conftest import World
from tests.monitor.online.builders import T0, clean_session

CST = timezone(timedelta(hours=8))
PERSON = "410102199001010011"


def _manifest(class_id: str, first: datetime, roster: list[dict[str, Any]] | None = None, hours: int = 2,
              length_s: float = 2700) -> dict[str, Any]:
    schedule = [{"index": n + 1, "kind": "practical", "start": (first + timedelta(hours=n)).isoformat(),
                 "end": (first + timedelta(hours=n, seconds=length_s)).isoformat()} for n in range(hours)]
    return {"class_id": class_id, "schedule": schedule, "teachers": [{"id": "E-01", "name": "赵老师"}],
            "roster": roster or [{"id": "T-1", "name": "张伟", "person_id": PERSON}, {"id": "T-2", "name": "李娜"},
                                 {"id": "T-3", "name": "王芳"}],
            "occupation": "焊工", "level": "四级"}


def _future(days: int) -> datetime:
    """09:00 in Henan `days` from today: a class's hours then fall on one local day whatever time the suite runs
    (from 22:50 CST a second hour began the next day and the opening day's count lost it)."""
    return (utcnow() + timedelta(days=days)).astimezone(CST).replace(hour=9, minute=0, second=0, microsecond=0)


def test_a_class_registered_after_its_first_hour_is_refused_unless_the_authority_accepts_it(world: World) -> None:
    w = world
    w.place("inst_a", "zhengzhou")
    w.place("inst_b", "zhengzhou")
    past = _manifest("LATE-1", _future(-2))
    r = w.client.post("/classes", json=past, headers=w.h("inst_a"))
    assert r.status_code == 422 and "class-registered-late" in r.json()["type"] and "003 §19" in r.json()["detail"], r.text
    # nobody but the authority accepts it: not the institution, not a platform
    body = {"institution_id": w.orgs["inst_a"], "class_ref": "LATE-1", "reason": "开班申请系统故障，已书面说明"}
    for who in ("inst_a", "plat_p"):
        assert w.client.post("/late-registrations", json=body, headers=w.h(who)).status_code == 403
    r = w.client.post("/late-registrations", json=body, headers=w.h("inspector"))  # Zhengzhou's inspectorate
    assert r.status_code == 201, r.text
    assert w.client.post("/late-registrations", json=body, headers=w.h("inspector")).status_code == 409
    r = w.client.post("/classes", json=past, headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    # the acceptance is for that institution's class id only
    assert w.client.post("/classes", json=past, headers=w.h("inst_b")).status_code == 422
    assert w.client.post("/classes", json=_manifest("LATE-2", _future(-2)), headers=w.h("inst_a")).status_code == 422
    assert w.client.post("/classes", json=_manifest("ON-TIME", _future(2)), headers=w.h("inst_a")).status_code == 201
    with w.service.session() as db:
        actions = [a.action for a in db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]  # type: ignore[arg-type]
    assert "class.late_registration_accepted" in actions and "class.registered_late" in actions
    # an inspectorate of another jurisdiction cannot accept one for Zhengzhou's school
    w.place("inst_b", "sanmenxia")
    body_b = {**body, "institution_id": w.orgs["inst_b"], "class_ref": "LATE-B"}
    assert w.client.post("/late-registrations", json=body_b, headers=w.h("inspector")).status_code == 403


def test_onsite_checks_leaves_and_the_period_headcount(world: World) -> None:
    w = world
    w.place("inst_a", "zhengzhou")
    first = _future(3)
    r = w.client.post("/classes", json=_manifest("K-CHECKS", first), headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    class_id = r.json()["id"]
    assert all("person_id" not in t for t in r.json()["manifest"]["roster"])  # the ID number is not kept
    with w.service.session() as db:
        [linked] = db.exec(select(ClassTrainee).where(ClassTrainee.class_id == class_id)).all()
    assert linked.trainee_id == "T-1" and PERSON not in linked.person_hash and len(linked.person_hash) == 64

    check = {"at": (first + timedelta(minutes=10)).isoformat(), "present": 2, "absent": ["T-3"], "note": "签到表已核"}
    assert w.client.post(f"/classes/{class_id}/checks", json=check, headers=w.h("inst_a")).status_code == 403
    r = w.client.post(f"/classes/{class_id}/checks", json=check, headers=w.h("inspector"))
    assert r.status_code == 201, r.text
    assert r.json()["person"] == "inspector person" and r.json()["absent"] == ["T-3"]
    later = {"at": (first + timedelta(hours=1, minutes=10)).isoformat(), "present": 3}
    assert w.client.post(f"/classes/{class_id}/checks", json=later, headers=w.h("inspector")).status_code == 201
    for bad in ({**check, "absent": ["T-9"]}, {**check, "present": 3}, {**check, "at": "2026-12-01T08:00:00"}):
        assert w.client.post(f"/classes/{class_id}/checks", json=bad, headers=w.h("inspector")).status_code == 422, bad

    leave = {"trainee": "T-3", "hour": 1, "makeup_hour": 2, "reason": "病假，有医院证明"}
    assert w.client.post(f"/classes/{class_id}/absences", json={**leave, "hour": 7}, headers=w.h("inst_a")).status_code == 422
    r = w.client.post(f"/classes/{class_id}/absences", json=leave, headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    absence = r.json()["id"]
    assert w.client.post(f"/classes/{class_id}/absences/{absence}/acceptance", headers=w.h("inst_a")).status_code == 403
    r = w.client.post(f"/classes/{class_id}/absences/{absence}/acceptance", headers=w.h("inspector"))
    assert r.status_code == 200 and r.json()["accepted_by"] == "inspector person"

    period = w.client.get(f"/classes/{class_id}/period", headers=w.h("inst_a")).json()
    h = period["headcount"]
    # no footage analysed yet: the on-site counts are the series; the opening day's count the opening
    assert [(p["present"], p["source"]) for p in h["series"]] == [(2, "onsite"), (3, "onsite")]
    assert (h["opening"], h["mean_present"], h["subsidisable"]) == (3, 2.5, 2.5)
    assert [c["person"] for c in period["onsite_checks"]] == ["inspector person"] * 2
    assert period["absences"][0]["accepted_by"] == "inspector person"
    assert period["unlinked"] == ["T-2", "T-3"] and period["persons"] == {"T-1": {"subsidisable": True, "findings": []}}
    assert w.client.get(f"/classes/{class_id}/period", headers=w.h("inst_b")).status_code == 404


def test_a_make_up_lesson_is_a_later_hour_of_the_same_content(world: World) -> None:
    """003 §21 补课: a leave's make-up lesson is a later class hour of the same kind and, where the
    schedule names topics, the same topic; anything else is refused (422), nothing recorded."""
    w = world
    w.place("inst_a", "zhengzhou")
    first = _future(3)
    manifest = _manifest("K-MAKEUP", first, hours=4)
    for hour, (kind, topic) in zip(manifest["schedule"], (("practical", "焊接安全"), ("practical", "焊接安全"),
                                                           ("theory", "焊接安全"), ("practical", "气割"))):
        hour.update(kind=kind, topic=topic)
    made = w.client.post("/classes", json=manifest, headers=w.h("inst_a"))
    assert made.status_code == 201, made.text
    class_id = made.json()["id"]

    def leave(hour: int, makeup: int | None) -> Any:
        return w.client.post(f"/classes/{class_id}/absences", json={"trainee": "T-2", "hour": hour, "makeup_hour": makeup,
                                                                    "reason": "病假"}, headers=w.h("inst_a"))

    for hour, makeup, why in ((2, 1, "does not come after"), (2, 2, "does not come after"),
                              (1, 3, "is theory, the missed class hour 1 practical"), (1, 4, "teaches '气割'")):
        r = leave(hour, makeup)
        assert r.status_code == 422 and why in r.json()["detail"], (hour, makeup, r.text)
    assert w.client.get(f"/classes/{class_id}/period", headers=w.h("inst_a")).json()["absences"] == []
    assert leave(1, 2).status_code == 201  # later, practical, the same topic
    assert leave(3, None).status_code == 201  # a leave without a make-up lesson
    # without topics only the kind and the order are compared
    plain = w.client.post("/classes", json=_manifest("K-PLAIN", first, hours=3), headers=w.h("inst_a")).json()["id"]
    r = w.client.post(f"/classes/{plain}/absences", json={"trainee": "T-2", "hour": 1, "makeup_hour": 3, "reason": "事假"},
                      headers=w.h("inst_a"))
    assert r.status_code == 201, r.text


def test_the_person_rules_over_one_persons_classes(world: World) -> None:
    w = world
    w.place("inst_a", "zhengzhou")
    w.place("inst_b", "zhengzhou")
    first = _future(5)
    k1 = w.client.post("/classes", json=_manifest("K1", first), headers=w.h("inst_a")).json()["id"]
    k2 = w.client.post("/classes", json=_manifest("K2", first + timedelta(days=10)), headers=w.h("inst_b")).json()["id"]

    def person_findings(class_id: str, who: str) -> list[tuple[str, str]]:
        period = w.client.get(f"/classes/{class_id}/period", headers=w.h(who)).json()
        return [(f["rule"], f["message"]) for f in period["persons"]["T-1"]["findings"]]

    # K1 is not assessed: K2 (another school, the same person) may not start; the same occupation
    # and level again too. K2 never reaches back to K1.
    assert person_findings(k2, "inst_b") == [("person.cooldown", "unassessed"), ("person.subsidy_limit", "same_occupation")]
    assert person_findings(k1, "inst_a") == []
    bad = w.client.put(f"/classes/{k1}/assessment", json={"assessed_at": (first - timedelta(days=1)).isoformat()},
                       headers=w.h("inst_a"))
    assert bad.status_code == 422
    assessed = (first + timedelta(days=2)).isoformat()
    assert w.client.put(f"/classes/{k1}/assessment", json={"assessed_at": assessed}, headers=w.h("inst_b")).status_code == 404
    assert w.client.put(f"/classes/{k1}/assessment", json={"assessed_at": assessed}, headers=w.h("inst_a")).status_code == 200
    other = (first + timedelta(days=3)).isoformat()
    assert w.client.put(f"/classes/{k1}/assessment", json={"assessed_at": other}, headers=w.h("inst_a")).status_code == 409
    # assessed 2 days after K1 began, K2 begins 8 days after that: within the month
    assert person_findings(k2, "inst_b")[0] == ("person.cooldown", "too_soon")
    assert person_findings(k1, "inst_a") == []


def test_an_online_session_during_a_class_hour_of_the_same_person(world: World) -> None:
    """The demo jurisdiction takes classes of the past (registration_before_first_hour = false):
    a class hour at T0 and the same person learning online at T0 on a platform."""
    w = world
    klass = _manifest("K-ONLINE", T0, roster=[{"id": "T-1", "name": "张伟", "person_id": PERSON}])
    assert w.client.post("/classes", json=klass, headers=w.h("inst_a")).status_code == 201
    assert w.client.put("/learners/L1", json={"person_id": PERSON}, headers=w.h("plat_p")).status_code == 200
    events = clean_session(platform="learn.example", learner="L1").events
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).json()["accepted"] == len(events)
    w.wait_jobs()
    [session] = w.client.get("/sessions", headers=w.h("plat_p")).json()
    rules = {f["rule"] for f in session["findings"]}
    assert "person.two_places" in rules and session["verdict"] == "invalid", session
    # a learner of another person learning at the same time: nothing of the kind
    assert w.client.put("/learners/L2", json={"person_id": "410102199202020022"}, headers=w.h("plat_p")).status_code == 200
    other = clean_session(platform="learn.example", learner="L2", session="S2").events
    assert w.client.post("/events", json=other, headers=w.h("plat_p")).json()["accepted"] == len(other)
    w.wait_jobs()
    by = {s["session"]: s for s in w.client.get("/sessions", headers=w.h("plat_p")).json()}
    assert "person.two_places" not in {f["rule"] for f in by["S2"]["findings"]}


def _analyse(w: World, class_id: str) -> None:
    r = w.client.post(f"/classes/{class_id}/analyses", headers=w.h("inst_a"))
    assert r.status_code == 202, r.text
    w.wait_jobs()


def _trainee_flags(w: World) -> dict[str, dict[str, Any]]:
    r = w.client.get("/flags", params={"kind": "trainee", "include_cleared": "true"}, headers=w.h("inspector"))
    assert r.status_code == 200, r.text
    return {f["subject_id"]: f for f in r.json()["items"]}


def test_a_trainees_person_findings_are_flagged_with_the_class_analysis(world: World) -> None:
    """A barred trainee is a flag of its own (not on the hours: the others' hours stay as the
    footage has them), raised once the class is registered (its persons are judged) and kept by
    the class's analysis; judged again with a later analysis, a finding gone clears the flag."""
    w = world
    k1 = w.client.post("/classes", json=_manifest("P-1", T0), headers=w.h("inst_a")).json()["id"]
    later = {**_manifest("P-2", T0 + timedelta(days=40)), "occupation": "电工"}
    k2 = w.client.post("/classes", json=later, headers=w.h("inst_a")).json()["id"]
    # registering marks the trainees' persons for judging: that judging judges the class trainees too
    w.wait_jobs()
    at_registration = list(_trainee_flags(w).values())
    _analyse(w, k1)
    _analyse(w, k2)
    flags = list(_trainee_flags(w).values())
    assert [(f["id"], f["rules"]) for f in at_registration] == [(f["id"], f["rules"]) for f in flags]
    # K1 unassessed when K2 began: T-1 of K2 is barred (the only linked trainee); K1's T-1 is not
    assert [(f["subject_kind"], f["verdict"], f["rules"]) for f in flags] == [("trainee", "invalid", ["person.cooldown"])]
    [flag] = flags
    r = w.client.get(f"/flags/{flag['id']}", headers=w.h("inspector"))
    assert r.status_code == 200, r.text
    subject = r.json()["subject"]
    assert (subject["class_id"], subject["trainee"]) == (k2, "T-1") and PERSON not in r.text
    assert [(f["rule"], f["message"], f["severity"]) for f in subject["findings"]] == [("person.cooldown", "unassessed", "invalidates")]
    # the inspector's page of the flag says whose it is (a trainee of the class), not a session's
    form = w.client.get("/ui/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    signed = w.client.post("/ui/sign-in", data={"key": w.keys["inspector"], **({"csrf": token.group(1)} if token else {})},
                           follow_redirects=False)
    assert signed.status_code == 303, signed.text
    page = w.client.get(f"/ui/flags/{flag['id']}")
    assert page.status_code == 200 and "T-1" in page.text and "P-2" in page.text and PERSON not in page.text
    # the pages' queue filters on it: the trainee's flag under kind=trainee, not under the hours
    queue = w.client.get("/ui/queue", params={"kind": "trainee", "status": "any"})
    assert queue.status_code == 200, queue.text
    rows = re.findall(r'<tr class="flag" data-kind="(\w+)"[^>]*data-flag="([^"]+)"', queue.text)
    assert rows == [("trainee", flag["id"])] and "P-2 · T-1" in queue.text
    assert 'value="trainee" selected' in queue.text
    hours = w.client.get("/ui/queue", params={"kind": "hour", "status": "any"})
    assert hours.status_code == 200 and flag["id"] not in hours.text
    assert w.client.get("/ui/queue", params={"kind": "learner"}).status_code == 422
    r = w.client.get("/flags", params={"kind": "trainee"}, headers=w.h("inst_a"))
    assert r.status_code == 403  # the queue is the inspectors'
    # K1 assessed a day after it began: K2, 40 days later, is past the calendar month
    assert w.client.put(f"/classes/{k1}/assessment", json={"assessed_at": (T0 + timedelta(days=1)).isoformat()},
                        headers=w.h("inst_a")).status_code == 200
    _analyse(w, k2)
    [again] = _trainee_flags(w).values()
    assert again["id"] == flag["id"] and again["cleared_at"] is not None, again


def test_an_online_session_during_a_class_hour_flags_the_class_trainee(world: World) -> None:
    """The class was analysed before the person learned online at the time of its hour: judging
    the person online judges the class's trainee again, and the class gets its flag (review there:
    the footage may show the trainee in the room)."""
    w = world
    klass = w.client.post("/classes", json=_manifest("K-TWO", T0, roster=[{"id": "T-1", "name": "张伟", "person_id": PERSON}]),
                          headers=w.h("inst_a")).json()["id"]
    _analyse(w, klass)
    assert _trainee_flags(w) == {}
    assert w.client.put("/learners/L1", json={"person_id": PERSON}, headers=w.h("plat_p")).status_code == 200
    events = clean_session(platform="learn.example", learner="L1").events
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).json()["accepted"] == len(events)
    w.wait_jobs()
    [flag] = _trainee_flags(w).values()
    assert (flag["verdict"], flag["rules"], flag["cleared_at"]) == ("review", ["person.two_places"], None), flag
    subject = w.client.get(f"/flags/{flag['id']}", headers=w.h("inspector")).json()["subject"]
    assert subject["trainee"] == "T-1" and subject["findings"][0]["evidence"]["other_training"].startswith("online:")


def _sign_in_pages(w: World, who: str) -> None:
    form = w.client.get("/ui/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    signed = w.client.post("/ui/sign-in", data={"key": w.keys[who], **({"csrf": token.group(1)} if token else {})},
                           follow_redirects=False)
    assert signed.status_code == 303, signed.text


def _rows(page: str, table: str) -> list[str]:
    body = re.search(rf'<table class="{table}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body is not None, table
    return re.findall(r"<tr\b.*?</tr>", body.group(1), re.S)


def _seen(hour: dict[str, Any], present: list[str]) -> dict[str, Any]:
    """An hour's visibility as the analysis stores it (monitor.footage.visibility.Visibility), with
    `present` identified at each of three check moments."""
    from monitor.footage.visibility import Moment, Visibility

    start = datetime.fromisoformat(hour["start"])
    moments = [Moment(at=start + timedelta(minutes=m), present=present, unknown=0) for m in (1, 2, 3)]
    roster = ["T-1", "T-2", "T-3"]
    return Visibility(moments=moments, seen={t: 3 * (t in present) for t in roster},
                      missing=[t for t in roster if t not in present], without_photo=[],
                      headcount_mean=float(len(present)), roster_size=len(roster)).model_dump(mode="json")


def test_the_inspection_record_lists_the_periods_findings_leaves_checks_and_persons(world: World) -> None:
    """The inspection record (004 annex 2: 开班当日检查情况、培训期间检查情况、平均出勤人数、检查人员签字)
    as GET /classes/{id}/period counts the class period (#17): the opening day's on-site checks apart
    from those during the training, the leaves and who accepted them, the period's own findings
    (visibility.trainee_absent), each linked trainee's person findings, the assessment; both languages."""
    w = world
    w.place("inst_a", "zhengzhou")
    first = _future(5)
    earlier = w.client.post("/classes", json=_manifest("K-EARLIER", _future(2)), headers=w.h("inst_a"))
    assert earlier.status_code == 201, earlier.text  # T-1's earlier class, never assessed: T-1 is barred below
    manifest = _manifest("K-RECORD", first)
    manifest["schedule"][1].update(start=(first + timedelta(days=1)).isoformat(),
                                   end=(first + timedelta(days=1, seconds=2700)).isoformat())
    made = w.client.post("/classes", json=manifest, headers=w.h("inst_a"))
    assert made.status_code == 201, made.text
    class_id = made.json()["id"]
    for at, present, absent, note in ((first + timedelta(minutes=10), 3, [], "开班当日全员到课"),
                                      (first + timedelta(days=1, minutes=10), 1, ["T-2", "T-3"], "T-2、T-3 未到")):
        r = w.client.post(f"/classes/{class_id}/checks", json={"at": at.isoformat(), "present": present, "absent": absent,
                                                               "note": note}, headers=w.h("inspector"))
        assert r.status_code == 201, r.text
    leave = w.client.post(f"/classes/{class_id}/absences", json={"trainee": "T-3", "hour": 2, "makeup_hour": None,
                                                                 "reason": "病假，有医院证明"}, headers=w.h("inst_a"))
    assert leave.status_code == 201, leave.text
    unaccepted = w.client.post(f"/classes/{class_id}/absences", json={"trainee": "T-2", "hour": 2, "reason": "事假"},
                               headers=w.h("inst_a"))
    assert unaccepted.status_code == 201, unaccepted.text
    assert w.client.post(f"/classes/{class_id}/absences/{leave.json()['id']}/acceptance",
                         headers=w.h("inspector")).status_code == 200
    assessed = first + timedelta(days=3)
    assert w.client.put(f"/classes/{class_id}/assessment", json={"assessed_at": assessed.isoformat()},
                        headers=w.h("inst_a")).status_code == 200
    # The footage's check moments as an analysis reports them: everyone on the first day, T-1 alone on the second.
    _analyse(w, class_id)
    with w.service.session() as db:
        record = db.exec(select(ClassReportRecord).where(ClassReportRecord.class_id == class_id)).one()
        body = dict(record.body)
        body["hours"] = [{**h, "visibility": _seen(h, ["T-1", "T-2", "T-3"] if h["index"] == 1 else ["T-1"])}
                         for h in body["hours"]]
        record.body = body
        db.add(record)
        db.commit()
    period = w.client.get(f"/classes/{class_id}/period", headers=w.h("inspector")).json()
    assert [(c["opening_day"], c["present"]) for c in period["onsite_checks"]] == [(True, 3), (False, 1)]
    absent = [f for f in period["findings"] if f["rule"] == "visibility.trainee_absent"]
    assert [f["evidence"]["trainee"] for f in absent] == ["T-2", "T-3"]  # hour 2: T-3's leave has no make-up lesson
    assert period["persons"]["T-1"]["subsidisable"] is False

    _sign_in_pages(w, "inspector")
    for lang, words in (("zh_CN", {"opening": "开班当日检查", "during": "培训期间检查", "absent": "未出现在第 2 课时",
                                   "barred": "不予补贴", "not_accepted": "未批准", "no_person": "无身份证号"}),
                        ("en", {"opening": "On the opening day", "during": "During the training",
                                "absent": "not seen in class hours 2", "barred": "Not subsidisable",
                                "not_accepted": "not accepted", "no_person": "Without an ID number"})):
        w.client.cookies.set("lang", lang)
        page = w.client.get(f"/ui/classes/{class_id}/record")
        assert page.status_code == 200, page.text
        text = page.text
        onsite = _rows(text, "record-onsite")
        assert [re.search(r'data-opening-day="(\w+)"', r).group(1) for r in onsite] == ["yes", "no"]  # type: ignore[union-attr]
        assert words["opening"] in onsite[0] and words["during"] in onsite[1] and "inspector person" in onsite[0]
        leaves = _rows(text, "record-leaves")
        assert len(leaves) == 2 and "T-3" in leaves[0] and "病假" in leaves[0] and 'data-accepted="yes"' in leaves[0]
        assert "inspector person" in leaves[0] and "inst_a person" in leaves[0]
        assert 'data-accepted="no"' in leaves[1] and words["not_accepted"] in leaves[1]
        findings = _rows(text, "record-period-findings")
        said = [r for r in findings if 'data-rule="visibility.trainee_absent"' in r]
        assert len(said) == 2 and "T-2" in said[0] and "李娜" in said[0] and words["absent"] in said[0], said
        persons = _rows(text, "record-persons")
        assert 'data-trainee="T-1"' in persons[0] and 'data-subsidisable="no"' in persons[0]
        assert words["barred"] in persons[0] and 'data-rule="person.cooldown"' in persons[0]
        assert words["no_person"] in persons[-1] and "T-2" in persons[-1] and "T-3" in persons[-1]
        assert f'class="record-assessed" data-value="{period["assessed_at"]}"' in text
    w.client.cookies.delete("lang")


def test_a_make_up_lesson_counts_only_when_held_before_the_assessment(world: World) -> None:
    """003 §21 可在结业考核前通过补课…计入培训到课率: the period counts T-2's accepted leave for hour 1,
    made up in hour 2, until the class's assessment is recorded before hour 2 ended."""
    w = world
    w.place("inst_a", "zhengzhou")
    first = _future(3)
    class_id = w.client.post("/classes", json=_manifest("K-ASSESSED", first), headers=w.h("inst_a")).json()["id"]
    leave = w.client.post(f"/classes/{class_id}/absences", json={"trainee": "T-2", "hour": 1, "makeup_hour": 2,
                                                                 "reason": "病假"}, headers=w.h("inst_a")).json()
    assert w.client.post(f"/classes/{class_id}/absences/{leave['id']}/acceptance", headers=w.h("inspector")).status_code == 200
    _analyse(w, class_id)
    with w.service.session() as db:
        record = db.exec(select(ClassReportRecord).where(ClassReportRecord.class_id == class_id)).one()
        record.body = {**record.body, "hours": [{**h, "visibility": _seen(h, ["T-1", "T-3"] if h["index"] == 1 else ["T-1", "T-2", "T-3"])}
                                                for h in record.body["hours"]]}
        db.add(record)
        db.commit()

    def t2() -> tuple[list[int], list[str]]:
        period = w.client.get(f"/classes/{class_id}/period", headers=w.h("inst_a")).json()
        [mine] = [t for t in period["attendance"] if t["trainee"] == "T-2"]
        return mine["hours_made_up"], [f["evidence"]["trainee"] for f in period["findings"] if f["rule"] == "visibility.trainee_absent"]

    assert t2() == ([1], [])
    hour2_end = first + timedelta(hours=1, seconds=2700)
    assert w.client.put(f"/classes/{class_id}/assessment", json={"assessed_at": (hour2_end - timedelta(minutes=5)).isoformat()},
                        headers=w.h("inst_a")).status_code == 200
    assert t2() == ([], ["T-2"])
