"""Faces are found once per stored image and kept in the database (issue #20): the judging job
finds the new images' faces before a round, and a round itself never detects a face nor reads
another learner's captures; the replay index answers from the stored hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

import monitor.online.faces as online_faces
from api.jobs.judging import find_faces, judge, load
from api.store.organisations import PolicyBook
from models.tables import FaceHash, ImageFace, Learner
from tests.api.conftest import World
from tests.api.test_faces_api import _session, faces_world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.shared_data


def test_faces_are_found_once_and_a_round_detects_none(faces_world: World, shared_data: Path,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    w, faces = faces_world, shared_data / "faces"
    assert w.client.put("/learners/L1/photo", content=(faces / "obama" / "1.jpg").read_bytes(),
                        headers=w.h("plat_p")).status_code == 201
    ids = {name: w.client.post("/captures", content=(faces / "obama" / f"{name}.jpg").read_bytes(),
                               headers=w.h("plat_p")).json()["id"] for name in ("2", "3", "4")}
    events = _session("S1", "L1", 0, ids["2"], ids["3"]) + _session("S2", "L1", 3600, ids["2"], ids["4"])
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).status_code == 200
    w.wait_jobs()
    with w.service.session() as db:
        rows = db.exec(select(FaceHash)).all()
        assert {r.kind for r in rows} == {"capture", "photo"} and len(rows) == 5  # 4 capture events, 1 photo
        assert all(r.face_px is not None and r.hash is not None for r in rows)
        assert len(db.exec(select(ImageFace)).all()) == 4  # 3 captures (one sent twice) and the photo
    seen = {s["session"]: sorted(f["rule"] for f in s["findings"]) for s in
            w.client.get("/sessions", headers=w.h("inspector")).json()}
    assert seen == {"S1": [], "S2": ["online.face_replay"]}  # the capture of S1 sent again

    assert find_faces(w.service) == 0  # nothing left to look at

    def no_detection(*_: Any, **__: Any) -> None:
        raise AssertionError("a judging round detected faces")

    monkeypatch.setattr(online_faces, "faces_in", no_detection)
    with w.service.session() as db:
        subject = db.exec(select(Learner)).one().subject
        judged = judge(db, w.service.settings, load(db, [subject]), PolicyBook(db))
    assert {j.report.session.split(":", 1)[1]: sorted(f.rule for f in j.report.findings) for j in judged} == seen
