"""Decisions through the API as the pages make them (#18): one finding at a time with a reason
code (POST /flags/{id}/decisions with `finding` and `reason`), the flag open while a finding is
undecided, and the undo as a withdrawal (POST /flags/{id}/withdrawals) of the caller's own recent
decisions only; the same store functions as the pages' decision bar (api/store/review.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.tables import AuditEntry, Decision
from tests.api.conftest import World
from tests.monitor.online.builders import clean_session


def _flag_with_findings(w: World) -> dict:  # type: ignore[type-arg]
    s = clean_session(length_s=600, session="S-FF", learner="L-FF", platform="learn.example")
    s.add("hidden", 100).add("visible", 200).add("seek", 400, from_s=400, to_s=550)
    assert w.client.post("/events", json=s.events, headers=w.h("plat_p")).status_code == 200
    w.wait_jobs()
    items = w.client.get("/flags", params={"kind": "session"}, headers=w.h("inspector")).json()["items"]
    assert len(items) == 1, items
    return w.client.get(f"/flags/{items[0]['id']}", headers=w.h("inspector")).json()


def _decisions(w: World, flag_id: str) -> list[dict]:  # type: ignore[type-arg]
    return w.client.get(f"/flags/{flag_id}/decisions", headers=w.h("inspector")).json()


def test_decisions_per_finding_with_reasons_and_withdrawals(world: World) -> None:
    w = world
    detail = _flag_with_findings(w)
    flag_id, keys = detail["flag"]["id"], detail["finding_keys"]
    assert len(keys) >= 2 and keys == [f"{f['rule']}@{f.get('start') or ''}" for f in detail["subject"]["findings"]], keys
    i = w.h("inspector")

    # One finding confirmed with its reason: the flag stays open while another is undecided.
    r = w.client.post(f"/flags/{flag_id}/decisions", json={"outcome": "confirmed", "finding": keys[0],
                                                             "reason": "evidence_clear", "note": "seen"}, headers=i)
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["finding"], first["reason"], first["outcome"]) == (keys[0], "evidence_clear", "confirmed")
    after = w.client.get(f"/flags/{flag_id}", headers=i).json()
    assert after["flag"]["status"] == "open" and set(after["standing"]) == {keys[0]}
    assert flag_id in {f["id"] for f in w.client.get("/flags", params={"status": "open"}, headers=i).json()["items"]}

    # Refused, nothing written: a finding the flag lacks, a reason of the other outcome (on a
    # finding and on the whole flag), an empty finding.
    for body in ({"outcome": "dismissed", "finding": keys[0].split("@")[0] + "@1999-01-01T00:00:00+00:00"},
                 {"outcome": "confirmed", "finding": keys[1], "reason": "false_alarm"},
                 {"outcome": "dismissed", "reason": "tampering_seen"},
                 {"outcome": "dismissed", "finding": ""}):
        refused = w.client.post(f"/flags/{flag_id}/decisions", json=body, headers=i)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json", (body, refused.text)
    assert [d["id"] for d in _decisions(w, flag_id)] == [first["id"]]

    # The others dismissed one by one: decided, and confirmed since one finding is.
    rest = [w.client.post(f"/flags/{flag_id}/decisions", json={"outcome": "dismissed", "finding": k, "reason": "explained"},
                          headers=i) for k in keys[1:]]
    assert all(r.status_code == 201 for r in rest)
    assert w.client.get(f"/flags/{flag_id}", headers=i).json()["flag"]["status"] == "confirmed"

    # Another inspector cannot withdraw my decision: 409, nothing written.
    made = w.client.post(f"/admin/organisations/{w.orgs['inspector']}/keys", json={"person": "another inspector"},
                         headers=w.h("admin"))
    assert made.status_code == 201, made.text
    other = {"Authorization": f"Bearer {made.json()['key']}"}
    before = _decisions(w, flag_id)
    refused = w.client.post(f"/flags/{flag_id}/withdrawals", json={"decisions": [first["id"]]}, headers=other)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json", refused.text
    assert _decisions(w, flag_id) == before
    # Nor may a platform or an institution.
    for who in ("plat_p", "inst_a"):
        assert w.client.post(f"/flags/{flag_id}/withdrawals", json={"decisions": [first["id"]]}, headers=w.h(who)).status_code == 403

    # My own withdrawal reopens the flag where the finding stood; once only.
    r = w.client.post(f"/flags/{flag_id}/withdrawals", json={"decisions": [first["id"]]}, headers=i)
    assert r.status_code == 201, r.text
    assert [(d["outcome"], d["withdraws"], d["finding"]) for d in r.json()] == [("withdrawn", first["id"], keys[0])]
    reopened = w.client.get(f"/flags/{flag_id}", headers=i).json()
    assert reopened["flag"]["status"] == "open" and keys[0] not in reopened["standing"]
    again = w.client.post(f"/flags/{flag_id}/withdrawals", json={"decisions": [first["id"]]}, headers=i)
    assert again.status_code == 409
    for body in ({"decisions": []}, {"decisions": [0]}):
        assert w.client.post(f"/flags/{flag_id}/withdrawals", json=body, headers=i).status_code == 422
    assert w.client.post("/flags/nope/withdrawals", json={"decisions": [first["id"]]}, headers=i).status_code == 404

    # A decision older than the undo's minute is decided again, not withdrawn.
    late = rest[0].json()["id"]
    with w.service.session() as db:
        row = db.get(Decision, late)
        assert row is not None
        row.created_at = row.created_at - timedelta(minutes=2)
        db.add(row)
        db.commit()
        count = len(db.exec(select(Decision).where(Decision.flag_id == flag_id)).all())
    too_late = w.client.post(f"/flags/{flag_id}/withdrawals", json={"decisions": [late]}, headers=i)
    assert too_late.status_code == 409 and "too-late" in too_late.json()["type"], too_late.text
    with w.service.session() as db:
        assert len(db.exec(select(Decision).where(Decision.flag_id == flag_id)).all()) == count
        actions = [a.action for a in db.exec(select(AuditEntry).where(AuditEntry.target == flag_id)).all()]
    assert actions.count("flag.withdraw") == 1 and actions.count("flag.decide") == len(keys)
