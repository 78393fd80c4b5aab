"""The README's demo on the embedded default: start the server (SQLite, in-process worker, local
files), load the sample class and a platform's sample day through the HTTP API as an institution
and platforms would, and say where to look."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import httpx
import uvicorn
from sqlmodel import select

from api.store.keys import create_key, create_organisation, find_organisation
from api.main import create_app
from api.core.service import Service
from api.core.settings import ServiceSettings
from models.migrate import upgrade
from models.tables import Job
from monitor.errors import MonitorError
from sample_videos.make_sample import make_sample_class
from sample_videos.online_day import write_day

INSTITUTION = "郑州市示范焊接培训学校"
INSPECTORATE = "郑州市人社局职业培训稽查"
PLATFORMS = ("edu-a", "edu-b", "edu-c")


@dataclass
class DemoResult:
    url: str
    keys: dict[str, str]  # who -> key (shown once)
    report: dict[str, Any]
    sessions: dict[str, int]  # verdict -> count
    flags: int
    period: dict[str, Any] | None = None  # the class period (attendance, headcount) where the roster has photos


def _org(service: Service, name: str, kind: str, jurisdiction: str | None = None) -> Any:
    with service.session() as db:
        return find_organisation(db, name) or create_organisation(db, name, kind, by="demo", jurisdiction=jurisdiction)


def _person_id(learner: str) -> str:
    """A made-up 18-character ID number for a sample learner (digits of its id, zero-padded)."""
    digits = "".join(c for c in learner if c.isdigit())
    return f"4101021990{int(digits or 0):08d}"


def _key(service: Service, organisation: Any, person: str) -> str:
    with service.session() as db:
        return create_key(db, organisation, person, by="demo")[1]


class BackgroundServer:
    """uvicorn in a thread of this process, so the demo can talk to it and then keep it serving."""

    def __init__(self, settings: ServiceSettings, host: str, port: int) -> None:
        self.app = create_app(settings)
        # proxy_headers off: forwarded headers only from MONITOR_TRUSTED_PROXIES (api/main.py).
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning", proxy_headers=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise MonitorError(f"the server could not start on {self.url} (is the port taken? try --port)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def _wait_jobs(service: Service, on_progress: Callable[[str, float], None]) -> None:
    while True:
        with service.session() as db:
            jobs = db.exec(select(Job).where(Job.status.in_(["queued", "running"]))).all()  # type: ignore[attr-defined]
            failed = db.exec(select(Job).where(Job.status == "failed")).all()
        if failed:
            raise MonitorError(f"a demo job failed: {failed[0].error}")
        if not jobs:
            return
        on_progress(jobs[0].stage or jobs[0].kind, jobs[0].progress)
        time.sleep(0.3)


def load_demo(server: BackgroundServer, sample_dir: Path, on_progress: Callable[[str, float], None],
              faces: Path | None = None) -> DemoResult:
    """`faces`: real faces for the sample class's roster photos (sample_videos/make_sample.py); the
    class made before is made again when it was made with them and they are gone, or the reverse."""

    service: Service = server.app.state.service
    keys = {"inspector": _key(service, _org(service, INSPECTORATE, "inspectorate"), "稽查员 李明"),
            # The sample's class hours last a minute: as an admin would, the demo puts its school in
            # the demo jurisdiction (Zhengzhou's rules with 1-minute hours), not its manifest.
            "institution": _key(service, _org(service, INSTITUTION, "institution", "demo"), "教务 王老师")}
    for name in PLATFORMS:
        keys[name] = _key(service, _org(service, name, "platform"), f"{name} feed")
    manifest_path = sample_dir / "class.json"
    made_with_faces = manifest_path.is_file() and bool(json.loads(manifest_path.read_text(encoding="utf-8")).get("roster"))
    if not manifest_path.is_file() or made_with_faces != (faces is not None):
        make_sample_class(sample_dir, faces)
    day_dir = sample_dir / "online"
    if not (day_dir / "events.jsonl").is_file():
        write_day(day_dir)

    with httpx.Client(base_url=server.url, timeout=300) as http:
        def as_(who: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[who]}"}

        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        sent = {k: v for k, v in manifest.items() if k not in ("policy", "policy_overrides")}  # the jurisdiction's
        made = http.post("/classes", json=sent, headers=as_("institution"))
        if made.status_code == 409:  # the demo ran before on this data folder: the class is there
            listed = http.get("/classes", headers=as_("institution")).json()
            class_id = next(c["id"] for c in listed if c["class_ref"] == manifest["class_id"])
        else:
            made.raise_for_status()
            class_id = made.json()["id"]
            for trainee in manifest["roster"]:  # the enrolment photos, as the institution uploads them
                if trainee.get("photo"):
                    http.put(f"/classes/{class_id}/roster/{trainee['id']}/photo", content=(sample_dir / trainee["photo"]).read_bytes(),
                             headers=as_("institution")).raise_for_status()
            for ref in manifest["recordings"]:
                on_progress(f"uploading {ref['path']}", 0.0)
                params = {"name": ref["path"], **({"start": ref["start"]} if ref.get("start") else {})}
                http.post(f"/classes/{class_id}/recordings", params=params,
                          content=(sample_dir / ref["path"]).read_bytes(), headers=as_("institution")).raise_for_status()
            http.post(f"/classes/{class_id}/analyses", headers=as_("institution")).raise_for_status()
            by_platform: dict[str, list[str]] = {}
            learners_on: dict[str, set[str]] = {}
            for line in (day_dir / "events.jsonl").read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                by_platform.setdefault(event["platform"], []).append(line)
                learners_on.setdefault(event["platform"], set()).add(event["learner"])
            courses = json.loads((day_dir / "courses.json").read_text(encoding="utf-8"))
            for platform, learners in learners_on.items():
                # Each platform its own catalogue, and its learners enrolled with their person ids
                # (the sample day's learner ids stand for people: one may learn on several platforms).
                for course, spec in courses.items():
                    http.put(f"/courses/{course}", json=spec, headers=as_(platform)).raise_for_status()
                for learner in sorted(learners):
                    http.put(f"/learners/{learner}", json={"person_id": _person_id(learner)},
                             headers=as_(platform)).raise_for_status()
            # Each learner's earlier trainings, reported by the platform the learner learns on.
            history = json.loads((day_dir / "history.json").read_text(encoding="utf-8"))
            for platform, learners in learners_on.items():
                mine = [{"learner": learner, **item} for learner, items in history.items() if learner in learners
                        for item in items]
                if mine:
                    http.post("/assessments", json=mine, headers=as_(platform)).raise_for_status()
            total = sum(len(v) for v in by_platform.values())
            sent = 0
            for platform, lines in by_platform.items():
                for start in range(0, len(lines), 1000):
                    batch = "\n".join(lines[start:start + 1000]).encode()
                    http.post("/events", content=batch, headers={**as_(platform), "Content-Type": "application/x-ndjson"}
                              ).raise_for_status()
                    sent += min(1000, len(lines) - start)
                    on_progress("sending learning events", sent / total)
        _wait_jobs(service, on_progress)
        report = http.get(f"/classes/{class_id}/report", headers=as_("inspector")).json()
        period = http.get(f"/classes/{class_id}/period", headers=as_("inspector")).json() if manifest["roster"] else None
        counts: dict[str, int] = {}
        after = None
        while True:
            page = http.get("/sessions", params={"limit": 1000, **({"after": after} if after else {})},
                            headers=as_("inspector")).json()
            for s in page:
                counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
            if len(page) < 1000:
                break
            after = page[-1]["id"]
    return DemoResult(server.url, keys, report, counts, _count_flags(service), period)


def _count_flags(service: Service) -> int:
    from sqlmodel import func

    from models.tables import Flag

    with service.session() as db:
        return db.exec(select(func.count()).select_from(Flag).where(Flag.cleared_at.is_(None))).one()  # type: ignore[union-attr]


def prepare(data_dir: Path) -> ServiceSettings:
    """The embedded default, with face checks off: the sample day carries no face pictures (the
    service judges faces by default; every verdict of the demo says they were off)."""
    settings = ServiceSettings(data_dir=data_dir, online_face_checks=False)
    upgrade(settings.db_url)
    return settings
