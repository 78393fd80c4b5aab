"""Institutions through the API: register, upload (one-shot and resumable), analyse; the stored
report is the CLI's report; bad input is refused clearly and loses nothing; inspectors decide."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sample_videos.make_sample import ROSTER, make_sample_class
from tests.api.conftest import World


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_class(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def cli_report(sample: Path) -> dict[str, Any]:
    """What `monitor analyze --json` prints for the same manifest and media (the real executable)."""
    done = subprocess.run([str(Path(sys.executable).parent / "monitor"), "analyze", str(sample), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def without_ids(value: Any) -> Any:
    """A served report less the recording ids the CLI, which has no recordings table, cannot know."""
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if not k.endswith("recording_id")}
    return value


def _as_sent(w: World, manifest: dict[str, Any], *who: str) -> dict[str, Any]:
    """As an institution sends it: a manifest names no policy (the jurisdiction's is used; the
    sample's 1-minute hours are the demo jurisdiction's, where an admin puts the institutions)."""
    if manifest.get("policy") == "demo-short":
        for org in who or ("inst_a",):
            w.place(org, "demo")
    return {k: v for k, v in manifest.items() if k not in ("policy", "policy_overrides")}


def _register(w: World, manifest: dict[str, Any], who: str = "inst_a") -> dict[str, Any]:
    manifest = _as_sent(w, manifest, who)
    r = w.client.post("/classes", json=manifest, headers=w.h(who))
    assert r.status_code == 201, r.text
    return r.json()


def _upload(w: World, class_id: str, path: Path, start: str | None = None, who: str = "inst_a"):  # type: ignore[no-untyped-def]
    params = {"name": path.name, **({"start": start} if start else {})}
    return w.client.post(f"/classes/{class_id}/recordings", params=params, content=path.read_bytes(),
                         headers={**w.h(who), "Content-Type": "application/octet-stream"})


def _resumable(w: World, class_id: str, path: Path, start: str | None = None, finished: int = 201) -> dict[str, Any]:
    """Send in three chunks, once from a wrong offset (the server says where to resume); `finished`
    is the status expected of finishing (200: the same bytes and name were stored before)."""
    r = w.client.post(f"/classes/{class_id}/uploads", json={"name": path.name, "start": start}, headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    upload = r.json()["id"]
    data = path.read_bytes()
    third = len(data) // 3
    offset = 0
    for chunk in (data[:third], data[third:2 * third], data[2 * third:]):
        r = w.client.patch(f"/uploads/{upload}", content=chunk, headers={**w.h("inst_a"), "Upload-Offset": str(offset)})
        assert r.status_code == 200, r.text
        offset += len(chunk)
        assert r.headers["Upload-Offset"] == str(offset)
    r = w.client.patch(f"/uploads/{upload}", content=b"x", headers={**w.h("inst_a"), "Upload-Offset": "0"})
    assert r.status_code == 409 and r.json()["offset"] == len(data)
    r = w.client.post(f"/uploads/{upload}/finish", headers=w.h("inst_a"))
    assert r.status_code == finished, r.text
    again = w.client.post(f"/uploads/{upload}/finish", headers=w.h("inst_a"))
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]  # finished before: the same one
    return r.json()


def _wait_report(w: World, class_id: str, who: str = "inst_a") -> dict[str, Any]:
    r = w.client.post(f"/classes/{class_id}/analyses", headers=w.h(who))
    assert r.status_code == 202, r.text
    w.wait_jobs()
    job = w.client.get(f"/jobs/{r.json()['id']}", headers=w.h(who)).json()
    assert (job["status"], job["progress"]) == ("done", 1.0), job
    r = w.client.get(f"/classes/{class_id}/report", headers=w.h(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_the_sample_class_through_the_api_gets_the_cli_report(world: World, sample: Path, cli_report: dict[str, Any]) -> None:
    manifest = json.loads(sample.read_text(encoding="utf-8"))
    klass = _register(world, manifest)
    first, second = manifest["recordings"]
    corrupt = sample.parent / "broken.mp4"
    corrupt.write_bytes((sample.parent / first["path"]).read_bytes()[:2000])

    assert _upload(world, klass["id"], sample.parent / first["path"], first["start"]).status_code == 201
    refused = _upload(world, klass["id"], corrupt)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "not a usable recording" in refused.json()["detail"]
    _resumable(world, klass["id"], sample.parent / second["path"])
    listed = world.client.get(f"/classes/{klass['id']}/recordings", headers=world.h("inst_a")).json()
    assert [r["original_name"] for r in listed] == [first["path"], second["path"]]
    # Sent again after a lost answer (one-shot, or a fresh resumable upload): the stored one, once.
    again = _upload(world, klass["id"], sample.parent / first["path"], first["start"])
    assert again.status_code == 200 and again.json()["id"] == listed[0]["id"]
    assert _resumable(world, klass["id"], sample.parent / second["path"], finished=200)["id"] == listed[1]["id"]
    assert len(world.client.get(f"/classes/{klass['id']}/recordings", headers=world.h("inst_a")).json()) == 2

    report = _wait_report(world, klass["id"])
    judged_by = report.pop("judged_by")
    # Files are named as uploaded, and carry the recording's id (names need not be unique).
    assert [(f["path"], f["recording_id"]) for f in report["files"]] == [(r["original_name"], r["id"]) for r in listed]
    assert without_ids(report) == cli_report
    assert judged_by["official"] and (judged_by["jurisdiction"], judged_by["profile"]) == ("demo", "demo-short")

    # Another institution cannot see any of it; an inspector can.
    for path in (f"/classes/{klass['id']}", f"/classes/{klass['id']}/report", f"/classes/{klass['id']}/recordings"):
        assert world.client.get(path, headers=world.h("inst_b")).status_code == 404
        assert world.client.get(path, headers=world.h("inspector")).status_code == 200
    assert _upload(world, klass["id"], corrupt, who="inst_b").status_code == 404

    # The tampered hour is in the queue; a decision is appended and attributed, never edits the flag.
    queue = world.client.get("/flags", params={"kind": "hour"}, headers=world.h("inspector")).json()
    invalid = [h for h in cli_report["hours"] if h["verdict"] != "valid"]
    assert len(queue["items"]) == len(invalid)
    flag = queue["items"][0]
    assert flag["status"] == "open" and set(flag["rules"]) == {f["rule"] for f in invalid[0]["findings"]}
    for outcome, note in (("confirmed", "loop visible at 08:01:05"), ("dismissed", "second look: camera restart")):
        r = world.client.post(f"/flags/{flag['id']}/decisions", json={"outcome": outcome, "note": note},
                              headers=world.h("inspector"))
        assert r.status_code == 201, r.text
    detail = world.client.get(f"/flags/{flag['id']}", headers=world.h("inspector")).json()
    assert [(d["outcome"], d["person"]) for d in detail["decisions"]] == [("confirmed", "inspector person"),
                                                                          ("dismissed", "inspector person")]
    assert detail["flag"]["status"] == "dismissed" and detail["flag"]["rules"] == flag["rules"]
    assert detail["subject"]["index"] == invalid[0]["index"]
    assert world.client.get("/flags", params={"status": "dismissed"}, headers=world.h("inspector")).json()["items"]
    assert not world.client.get("/flags", params={"status": "open", "kind": "hour"}, headers=world.h("inspector")).json()["items"]
    audit = world.client.get("/audit", headers=world.h("admin")).json()
    actions = [a["action"] for a in audit]
    assert {"class.register", "recording.upload", "class.analyse", "flag.decide"} <= set(actions)
    assert any(a["action"] == "flag.decide" and a["person"] == "inspector person" for a in audit)


def test_a_class_that_breaks_the_class_shape_is_refused_naming_the_rule(world: World, sample: Path) -> None:
    manifest = _as_sent(world, json.loads(sample.read_text(encoding="utf-8")))
    manifest["roster"] = [{"id": f"T{n}", "name": f"学员{n}"} for n in range(200)]
    r = world.client.post("/classes", json=manifest, headers=world.h("inst_a"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["rule"] == "class.size" and "200 trainees" in r.json()["detail"]
    r = world.client.post("/classes", json={**manifest, "schedule": []}, headers=world.h("inst_a"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "schedule"
    # Missing evidence is refused: with no teacher the ratio cannot be checked.
    r = world.client.post("/classes", json={**manifest, "teachers": []}, headers=world.h("inst_a"))
    assert r.status_code == 422 and r.json()["rule"] == "class.teacher_ratio" and "no teachers" in r.json()["detail"]


def test_a_manifest_cannot_name_its_policy(world: World, sample: Path) -> None:
    """The supervised do not choose their thresholds: policy and overrides are the authority's."""
    manifest = _as_sent(world, json.loads(sample.read_text(encoding="utf-8")))
    for extra in ({"policy": "zhengzhou-2022"}, {"policy_overrides": {"practical_min_continuous_s": 1}},
                  {"policy": "demo-short", "policy_overrides": {"freeze_max_s": 100000}}):
        r = world.client.post("/classes", json={**manifest, **extra}, headers=world.h("inst_a"))
        assert r.status_code == 422 and "the policy is the jurisdiction's" in r.json()["detail"], r.text
    assert world.client.get("/classes", headers=world.h("inst_a")).json() == []


def test_registering_again_is_the_same_class_and_another_manifest_under_its_id_a_conflict(world: World, sample: Path) -> None:
    manifest = _as_sent(world, json.loads(sample.read_text(encoding="utf-8")), "inst_a", "inst_b")
    first = _register(world, manifest)
    again = world.client.post("/classes", json=manifest, headers=world.h("inst_a"))
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    changed = {**manifest, "teachers": [{"id": "E-99", "name": "另一位老师"}]}
    r = world.client.post("/classes", json=changed, headers=world.h("inst_a"))
    assert r.status_code == 409 and r.json()["type"] == "/problems/duplicate"
    other = world.client.post("/classes", json=manifest, headers=world.h("inst_b"))  # another school's own class
    assert other.status_code == 201 and other.json()["id"] != first["id"]
    assert len(world.client.get("/classes", headers=world.h("inst_a")).json()) == 1


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.shared_data
def test_roster_photos_need_one_usable_face(sqlite_world: World, sample: Path, shared_data: Path) -> None:
    w = sqlite_world
    klass = _register(w, {**json.loads(sample.read_text(encoding="utf-8")), "roster": ROSTER})
    url = f"/classes/{klass['id']}/roster/T-001/photo"
    r = w.client.put(url, content=(shared_data / "faces" / "obama" / "1.jpg").read_bytes(), headers=w.h("inst_a"))
    assert r.status_code == 201, r.text
    blank = w.client.put(url, content=_png(Image.new("RGB", (400, 400), "white")), headers=w.h("inst_a"))
    assert blank.status_code == 422 and "T-001" in blank.json()["detail"] and "no face" in blank.json()["detail"]
    assert "parts" not in blank.json()["detail"]  # the server's own file names stay inside
    garbage = w.client.put(url, content=b"not an image", headers=w.h("inst_a"))
    assert garbage.status_code == 422
    assert w.client.put(f"/classes/{klass['id']}/roster/NOBODY/photo", content=b"x", headers=w.h("inst_a")).status_code == 404
    # The first, good photo is still the one on record.
    from sqlmodel import select

    from models.tables import RosterPhoto

    with w.service.session() as db:
        photos = db.exec(select(RosterPhoto)).all()
    assert len(photos) == 1 and photos[0].trainee_id == "T-001"
