"""Retention (issue #20): past the jurisdiction's retention period (profile data, here set by the
authority's override) the face images are deleted with their encodings; their hashes stay, so a
replay of a deleted capture is still found, and the verdicts stay, also when the learner is
judged again; a flagged session's images are held until an inspector decides; all audited."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from api.jobs.retention import enforce_retention
from api.store.events import mark_dirty
from models.tables import AuditEntry, FaceHash, ImageFace, Learner
from models.types import utcnow
from tests.api.conftest import World
from tests.api.test_faces_api import _session, faces_world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.shared_data


def _verdicts(w: World) -> dict[str, list[str]]:
    return {s["session"]: sorted(f["rule"] for f in s["findings"])
            for s in w.client.get("/sessions", headers=w.h("inspector")).json()}


def test_images_past_retention_are_deleted_hashes_and_verdicts_kept(faces_world: World, shared_data: Path) -> None:  # noqa: F811
    w, faces = faces_world, shared_data / "faces"
    r = w.client.post("/jurisdictions/zhengzhou/overrides", headers=w.h("admin"),
                      json={"parameters": {"image_retention_days": 30}, "reason": "test: a month"})
    assert r.status_code == 201, r.text
    assert w.client.put("/learners/L1/photo", content=(faces / "obama" / "1.jpg").read_bytes(),
                        headers=w.h("plat_p")).status_code == 201
    ids = {name: w.client.post("/captures", content=(faces / "obama" / f"{name}.jpg").read_bytes(),
                               headers=w.h("plat_p")).json()["id"] for name in ("2", "3", "4")}
    # S2 sends S1's capture again: a replay, flagged for inspectors.
    events = _session("S1", "L1", 0, ids["2"], ids["3"]) + _session("S2", "L1", 3600, ids["2"], ids["4"])
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).status_code == 200
    w.wait_jobs()
    before = _verdicts(w)
    assert before == {"S1": [], "S2": ["online.face_replay"]}
    storage = w.service.settings.storage

    later = utcnow() + timedelta(days=31)
    deleted, held = enforce_retention(w.service, now=later)
    # S2 is flagged and undecided: its captures (2, shared with S1, and 4) and the learner's photo
    # they were compared with are held; S1's kept photo (3) goes.
    assert (deleted, held) == (1, 3)
    assert not (storage / "captures" / ids["3"]).exists() and (storage / "captures" / ids["2"]).exists()
    with w.service.session() as db:
        gone = {r.image: r for r in db.exec(select(ImageFace).where(ImageFace.deleted_at.is_not(None))).all()}  # type: ignore[union-attr]
        assert set(gone) == {f"captures/{ids['3']}"}
        assert all("encoding" not in f and f["hash"] for row in gone.values() for f in row.faces)
        assert all(r.hash is not None for r in db.exec(select(FaceHash)).all())  # every hash kept
        audited = db.exec(select(AuditEntry).where(AuditEntry.action == "retention.delete")).all()
        assert sorted(a.target for a in audited) == sorted(gone)

    flag = w.client.get("/flags", headers=w.h("inspector")).json()
    flag_id = (flag["items"] if isinstance(flag, dict) else flag)[0]["id"]
    assert w.client.post(f"/flags/{flag_id}/decisions", headers=w.h("inspector"),
                         json={"outcome": "confirmed", "note": "the same picture"}).status_code in (200, 201)
    assert enforce_retention(w.service, now=later) == (3, 0)  # decided: no longer held
    with w.service.session() as db:
        photo = db.exec(select(FaceHash).where(FaceHash.kind == "photo")).one().image
        assert not (storage / photo).exists()
        assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "retention.delete")).all()) == 4
    assert not any((storage / "captures" / i).exists() for i in ids.values())

    # Judged again from scratch: the sessions whose images are gone keep their verdicts.
    with w.service.session() as db:
        mark_dirty(db, [db.exec(select(Learner)).one().subject])
        db.commit()
    w.wait_jobs()
    assert _verdicts(w) == before

    # A copy of a deleted capture, sent later by another learner, is still a replay (by its hash).
    assert w.client.put("/learners/L2/photo", content=(faces / "obama" / "2.jpg").read_bytes(),
                        headers=w.h("plat_p")).status_code == 201
    again = io.BytesIO()
    Image.open(faces / "obama" / "3.jpg").convert("RGB").save(again, "JPEG", quality=60)
    copy = w.client.post("/captures", content=again.getvalue(), headers=w.h("plat_p")).json()["id"]
    kept = w.client.post("/captures", content=(faces / "obama" / "4.jpg").read_bytes(), headers=w.h("plat_p")).json()["id"]
    events2: list[dict[str, Any]] = _session("S3", "L2", 7200, copy, kept)
    assert w.client.post("/events", json=events2, headers=w.h("plat_p")).status_code == 200
    w.wait_jobs()
    s3 = next(s for s in w.client.get("/sessions", headers=w.h("inspector")).json() if s["session"] == "S3")
    assert any(f["rule"] == "online.face_replay" and f["evidence"]["replay_of"] == ids["3"] for f in s3["findings"]), s3["findings"]
