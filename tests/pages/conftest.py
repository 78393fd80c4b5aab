"""A running service with the sample class analysed, and Debian's Chromium driven by Playwright.
Without /usr/bin/chromium the browser tests skip with the reason; in CI they fail instead."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import missing

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# As the machine notes say: without these, Chromium keeps reaching for the network it cannot have.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@dataclass
class Site:
    url: str
    keys: dict[str, str]
    classes: dict[str, str]  # who -> class id


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        missing(f"Debian's Chromium is not installed at {CHROMIUM} (make test installs it: apt-get install chromium)")
    return CHROMIUM


def start_server(folder: Path, people: tuple[tuple[str, str, str, str], ...],
                 **settings_given: Any) -> tuple[Any, dict[str, str]]:
    """A migrated service on a free port in this process, and a key for each (who, organisation, kind, person);
    `settings_given` overrides service settings (the fuzz run lifts the ingest rate limit)."""
    from api.store.keys import create_key, create_organisation
    from api.demo import BackgroundServer
    from api.core.settings import ServiceSettings
    from models.migrate import upgrade

    # The sample day has no face pictures: judged as a deployment that checks faces elsewhere would.
    settings = ServiceSettings(data_dir=folder / "data", cache_dir=folder / "cache", online_face_checks=False,
                               **settings_given)
    upgrade(settings.db_url)
    server = BackgroundServer(settings, "127.0.0.1", _port())
    server.start()
    keys: dict[str, str] = {}
    with server.app.state.service.session() as db:
        for who, name, kind, person in people:
            # the 1-minute sample class's; its inspectorate's too, which records on-site checks there
            jurisdiction = "demo" if kind in ("institution", "inspectorate") else None
            keys[who] = create_key(db, create_organisation(db, name, kind, jurisdiction=jurisdiction), person)[1]
    return server, keys


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from sample_videos.make_sample import as_sent, make_sample_class

    folder = tmp_path_factory.mktemp("site")
    sample = make_sample_class(folder / "sample")
    server, keys = start_server(folder, (("inspector", "郑州市人社局稽查", "inspectorate", "稽查员 李明"),
                                         ("inst_a", "郑州焊接学校", "institution", "教务 王老师"),
                                         ("inst_b", "洛阳烹饪学校", "institution", "教务 张老师"),
                                         ("platform", "learn.example", "platform", "feed"),
                                         ("platform2", "study.example", "platform", "feed")))
    try:
        manifest: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
        classes = {}
        with httpx.Client(base_url=server.url, timeout=120) as http:
            a = {"Authorization": f"Bearer {keys['inst_a']}"}
            classes["inst_a"] = http.post("/classes", json=as_sent(manifest), headers=a).json()["id"]
            for ref in manifest["recordings"]:
                http.post(f"/classes/{classes['inst_a']}/recordings",
                          params={"name": ref["path"], **({"start": ref["start"]} if ref.get("start") else {})},
                          content=(sample.parent / ref["path"]).read_bytes(), headers=a).raise_for_status()
            job = http.post(f"/classes/{classes['inst_a']}/analyses", headers=a).json()["id"]
            b = {"Authorization": f"Bearer {keys['inst_b']}"}
            classes["inst_b"] = http.post("/classes", json={**as_sent(manifest), "class_id": "LUOYANG-1"}, headers=b).json()["id"]
            from tests.monitor.online.builders import clean_session

            import io

            from PIL import Image

            p = {"Authorization": f"Bearer {keys['platform']}"}
            # L-0042 is one person on both platforms (the same ID number given at enrolment).
            for who in ("platform", "platform2"):
                http.put("/learners/L-0042", json={"person_id": "410102199001014242"},
                         headers={"Authorization": f"Bearer {keys[who]}"}).raise_for_status()
            picture = io.BytesIO()
            Image.new("RGB", (320, 240), (200, 160, 120)).save(picture, "PNG")
            capture = http.post("/captures", content=picture.getvalue(), headers=p).json()["id"]
            fast = clean_session(length_s=900, session="S-FAST", learner="L-0042", platform="learn.example")
            fast.events = [{**e, "image": capture} if e["type"] == "face_capture" else e for e in fast.events]
            fast.add("hidden", 300).add("visible", 340).add("seek", 500, from_s=500, to_s=800)
            http.post("/events", json=fast.events, headers=p).raise_for_status()
            other = clean_session(length_s=600, session="S-OTHER", learner="L-0042", platform="study.example", start_s=120)
            http.post("/events", json=other.events, headers={"Authorization": f"Bearer {keys['platform2']}"}).raise_for_status()
            deadline = time.monotonic() + 180
            while http.get(f"/jobs/{job}", headers=a).json()["status"] != "done":
                assert time.monotonic() < deadline, "the analysis did not finish"
                time.sleep(0.3)
            i = {"Authorization": f"Bearer {keys['inspector']}"}
            while len(http.get("/sessions", headers=i).json()) < 2:
                assert time.monotonic() < deadline, "the session was not judged"
                time.sleep(0.3)
        yield Site(server.url, keys, classes)
    finally:
        server.stop()


@pytest.fixture
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.is_file():
        missing(f"axe-core is not installed at {AXE} (make test runs npm install)")
    return AXE


def serious_violations(page: Any, axe: Path) -> list[str]:
    """axe-core's serious and critical violations of the page as it is now: rule id and where."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
            if v.get("impact") in ("serious", "critical")]


def load(page: Any, target: str | Any) -> None:
    """Click what loads another page and return once that page has loaded. Playwright's click
    returns when the navigation has begun, so a check made next may still see the page before:
    CI once found no #undo-toast on the page the decision had just loaded."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()
