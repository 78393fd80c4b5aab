"""Face checks through the API, on real faces: enrolment photos and captures uploaded by a
platform, events naming the captures; the verdicts are the engine's for the same pictures; the
platform learns pass or fail, never a score; images are only ever the platform's own captures."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image

from monitor.faces.enrol import EncodingCache
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.faces import FaceChecks
from monitor.online.reader import collect, parse_record
from monitor.policy import load_policy
from tests.api.conftest import World, make_world
from tests.monitor.online.builders import clean_session

pytestmark = pytest.mark.shared_data
OVERRIDES = {"face_liveness": "still"}


@pytest.fixture
def faces_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    for w in make_world(sqlite_url, tmp_path / "data", online_face_checks=True):
        # Stills are enough here: the authority says so for the jurisdiction (audited), as only it may.
        r = w.client.post("/jurisdictions/zhengzhou/overrides", headers=w.h("admin"),
                          json={"parameters": OVERRIDES, "reason": "the tests' captures are stills"})
        assert r.status_code == 201, r.text
        yield w


def _session(session: str, learner: str, start_s: float, capture: str | None, kept: str) -> list[dict[str, Any]]:
    s = clean_session(session=session, learner=learner, start_s=start_s, platform="learn.example")
    s.events = [e for e in s.events if e["type"] not in ("face_capture", "photo_kept")]
    if capture:
        s.add("face_capture", 5, image=capture)
    s.add("photo_kept", 200, image=kept)
    return s.events


def test_face_checks_through_the_api(faces_world: World, shared_data: Path, tmp_path: Path) -> None:
    w, faces = faces_world, shared_data / "faces"
    pictures = {"c1": faces / "obama" / "2.jpg", "c2": faces / "obama" / "3.jpg", "c3": faces / "obama" / "4.jpg",
                "c4": faces / "obama" / "5-240p.jpg", "biden-enrol": faces / "biden" / "1.jpg",
                "alex": faces / "alex_lacamoire" / "1.jpg"}
    again = io.BytesIO()
    Image.open(faces / "obama" / "2.jpg").convert("RGB").save(again, "JPEG", quality=40)
    uploads = {name: path.read_bytes() for name, path in pictures.items()} | {"c1-again": again.getvalue()}
    ids: dict[str, str] = {}
    for name, data in uploads.items():
        r = w.client.post("/captures", content=data, headers=w.h("plat_p"))
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    for learner, photo in (("L1", faces / "obama" / "1.jpg"), ("L2", faces / "biden" / "1.jpg")):
        assert w.client.put(f"/learners/{learner}/photo", content=photo.read_bytes(), headers=w.h("plat_p")).status_code == 201
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, "PNG")
    refused = w.client.put("/learners/L3/photo", content=blank.getvalue(), headers=w.h("plat_p"))
    assert refused.status_code == 422 and "no face" in refused.json()["detail"]
    assert w.client.post("/captures", content=b"not an image", headers=w.h("plat_p")).status_code == 422

    events = (_session("S1", "L1", 0, ids["c1"], ids["c2"])                         # genuine
              + _session("S2", "L1", 3600, ids["c1-again"], ids["c3"])              # S1's capture re-sent
              + _session("S3", "L2", 0, ids["alex"], ids["biden-enrol"])           # someone else; enrolment photo kept
              + _session("S4", "L1", 7200, None, ids["c4"]))                        # no capture at the start
    r = w.client.post("/events", json=events, headers=w.h("plat_p"))
    assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text
    w.wait_jobs()

    # The engine on the same pictures, as the CLI would judge them.
    folder = tmp_path / "images"
    folder.mkdir()
    for name, capture_id in ids.items():
        (folder / capture_id).write_bytes(uploads[name])
    shutil.copy(faces / "obama" / "1.jpg", folder / "enrol-L1.jpg")
    shutil.copy(faces / "biden" / "1.jpg", folder / "enrol-L2.jpg")
    policy = load_policy("zhengzhou-2022", OVERRIDES)
    checks = FaceChecks(policy, {"L1": folder / "enrol-L1.jpg", "L2": folder / "enrol-L2.jpg"}, folder,
                        EncodingCache(tmp_path / "cache"))
    engine = OnlineEngine(policy, Catalogue(), checks)
    engine.add(collect(parse_record(e, 1) for e in events).events)
    expected = {r.session: sorted(f.rule for f in r.findings) for r in engine.sessions()}
    assert expected == {"S1": [], "S2": ["online.face_replay"], "S3": ["online.face_mismatch", "online.face_replay"],
                        "S4": ["online.face_missing", "online.face_replay"]}

    seen = w.client.get("/sessions", headers=w.h("inspector")).json()
    assert {s["session"]: sorted(f["rule"] for f in s["findings"]) for s in seen} == expected
    mismatch = next(f for s in seen if s["session"] == "S3" for f in s["findings"] if f["rule"] == "online.face_mismatch")
    assert mismatch["measured"] is not None  # inspectors see the distance
    told = w.client.get("/sessions", headers=w.h("plat_p")).json()
    for s in told:
        for f in s["findings"]:
            if f["rule"].startswith("online.face_"):
                assert "measured" not in f and "threshold" not in f and "evidence" not in f


def test_images_must_be_the_platforms_own_captures(faces_world: World, shared_data: Path) -> None:
    w = faces_world
    theirs = w.client.post("/captures", content=(shared_data / "faces" / "obama" / "2.jpg").read_bytes(),
                           headers=w.h("plat_q")).json()["id"]
    events = _session("S1", "L1", 0, "../../etc/passwd", theirs)
    r = w.client.post("/events", json=events, headers=w.h("plat_p"))
    rejected = {x["event_id"]: x for x in r.json()["rejected"]}
    assert r.status_code == 200 and len(rejected) == 2
    assert {x["field"] for x in rejected.values()} == {"image"}
    assert r.json()["accepted"] == len(events) - 2


def test_challenges_are_handed_out_and_kept(sqlite_world: World) -> None:
    w = sqlite_world
    r = w.client.post("/challenges", json={"learner": "L1", "session": "S1", "start": "2026-11-20T09:00:00+08:00",
                                           "planned_s": 5400}, headers=w.h("plat_p"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert len(made) == 3 and len({c["nonce"] for c in made}) == 3  # the start, and one per 45-minute class hour
    from sqlmodel import select

    from models.tables import ChallengeRecord

    with w.service.session() as db:
        assert {c.nonce for c in db.exec(select(ChallengeRecord)).all()} == {c["nonce"] for c in made}


def test_a_replay_of_another_learners_earlier_capture_is_found_in_a_later_round(faces_world: World, shared_data: Path) -> None:
    w, faces = faces_world, shared_data / "faces"
    for learner, photo in (("L1", faces / "obama" / "1.jpg"), ("L2", faces / "obama" / "3.jpg")):
        assert w.client.put(f"/learners/{learner}/photo", content=photo.read_bytes(), headers=w.h("plat_p")).status_code == 201
    genuine = w.client.post("/captures", content=(faces / "obama" / "2.jpg").read_bytes(), headers=w.h("plat_p")).json()["id"]
    kept = w.client.post("/captures", content=(faces / "obama" / "4.jpg").read_bytes(), headers=w.h("plat_p")).json()["id"]
    w.client.post("/events", json=_session("S1", "L1", 0, genuine, kept), headers=w.h("plat_p"))
    w.wait_jobs()  # L1 judged alone
    again = io.BytesIO()
    original = Image.open(faces / "obama" / "2.jpg").convert("RGB")
    original.resize((original.width * 3 // 4, original.height * 3 // 4)).save(again, "JPEG", quality=50)
    copy = w.client.post("/captures", content=again.getvalue(), headers=w.h("plat_p")).json()["id"]
    kept2 = w.client.post("/captures", content=(faces / "obama" / "5-240p.jpg").read_bytes(), headers=w.h("plat_p")).json()["id"]
    w.client.post("/events", json=_session("S2", "L2", 3600, copy, kept2), headers=w.h("plat_p"))
    w.wait_jobs()  # L2 judged alone, later
    sessions = {s["session"]: s for s in w.client.get("/sessions", headers=w.h("inspector")).json()}
    replay = [f for f in sessions["S2"]["findings"] if f["rule"] == "online.face_replay"]
    assert any(f["evidence"]["replay_of"] == genuine for f in replay), [(f["detail"], f["evidence"]) for f in replay]


def test_captures_must_answer_the_challenges_handed_out(faces_world: World, shared_data: Path) -> None:
    w, faces = faces_world, shared_data / "faces"
    assert w.client.put("/learners/L1/photo", content=(faces / "obama" / "1.jpg").read_bytes(),
                        headers=w.h("plat_p")).status_code == 201
    ids = [w.client.post("/captures", content=(faces / "obama" / n).read_bytes(), headers=w.h("plat_p")).json()["id"]
           for n in ("2.jpg", "3.jpg", "4.jpg")]
    first = w.client.post("/challenges", json={"learner": "L1", "session": "S1", "start": "2026-11-20T09:00:00+08:00",
                                               "planned_s": 600}, headers=w.h("plat_p")).json()
    w.client.post("/challenges", json={"learner": "L1", "session": "S2", "start": "2026-11-20T10:00:00+08:00",
                                       "planned_s": 600}, headers=w.h("plat_p"))
    # S1 answers its first challenge with its start capture; S2 sends S1's nonce instead of its own
    s1 = _session("S1", "L1", 0, ids[0], ids[1])
    s2 = _session("S2", "L1", 3600, ids[2], ids[1])
    from datetime import datetime

    at = datetime.fromisoformat(first[0]["at"])
    for events in (s1, s2):
        capture = next(e for e in events if e["type"] == "face_capture")
        capture["nonce"] = first[0]["nonce"]
        if events is s1:
            capture["at"] = at.isoformat()
    s2 = [e for e in s2 if e["type"] != "photo_kept"] + [{**next(e for e in s1 if e["type"] == "photo_kept"),
                                                           "id": "kept-again", "session": "S2", "at": "2026-11-20T10:03:00+08:00"}]
    r = w.client.post("/events", json=s1 + s2, headers=w.h("plat_p"))
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    w.wait_jobs()
    sessions = {s["session"]: s for s in w.client.get("/sessions", headers=w.h("inspector")).json()}
    s2_notes = {f["detail"] for f in sessions["S2"]["findings"]}
    assert "face_capture: its nonce is of a challenge for session S1 of learner L1" in s2_notes  # replayed
    replayed = next(f for f in sessions["S2"]["findings"] if f["detail"].startswith("face_capture: its nonce"))
    assert replayed["rule"] == "online.face_replay"
    assert any(n.startswith("the random check at ") for n in s2_notes)  # its own challenges went unanswered
    unanswered_s1 = [f for f in sessions["S1"]["findings"] if f["detail"].startswith("the random check")]
    assert len(unanswered_s1) == len(first) - 1  # the one answered is not among them
