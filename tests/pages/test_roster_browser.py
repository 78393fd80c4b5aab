"""The class-hour page of a class whose roster has photos, on real faces: the roster grid shows
who was seen and who never was, and the headcount at each check against the roster."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sample_videos.make_sample import as_sent
from tests.monitor.faces.test_visibility import _default_classroom, classroom  # noqa: F401  (fixtures: a clip of real faces)
from tests.pages.conftest import ARTIFACTS, load, serious_violations, start_server

pytestmark = pytest.mark.shared_data


def test_the_roster_grid_and_the_headcount(classroom: Path, browser: Any, axe_script: Path, tmp_path: Path) -> None:  # noqa: F811
    server, keys = start_server(tmp_path / "site", (("inspector", "郑州市人社局稽查", "inspectorate", "稽查员 李明"),
                                                    ("school", "郑州焊接学校", "institution", "教务 王老师")))
    try:
        manifest = json.loads(classroom.read_text(encoding="utf-8"))
        school = {"Authorization": f"Bearer {keys['school']}"}
        with httpx.Client(base_url=server.url, timeout=300) as http:
            class_id = http.post("/classes", json=as_sent(manifest), headers=school).json()["id"]
            for trainee in manifest["roster"]:
                http.put(f"/classes/{class_id}/roster/{trainee['id']}/photo",
                         content=(classroom.parent / trainee["photo"]).read_bytes(), headers=school).raise_for_status()
            ref = manifest["recordings"][0]
            http.post(f"/classes/{class_id}/recordings", params={"name": ref["path"], "start": ref["start"]},
                      content=(classroom.parent / ref["path"]).read_bytes(), headers=school).raise_for_status()
            job = http.post(f"/classes/{class_id}/analyses", headers=school).json()["id"]
            deadline = time.monotonic() + 300
            while (state := http.get(f"/jobs/{job}", headers=school).json())["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.5)
            assert state["status"] == "done", state
            report = http.get(f"/classes/{class_id}/report", headers=school).json()
        visibility = report["hours"][0]["visibility"]
        assert visibility["missing"] == ["T-4"]

        page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # axe injects its script
        page.goto(server.url + "/ui/sign-in")
        page.fill("#key", keys["inspector"])
        load(page, "button[type=submit]")
        load(page, page.locator("tr.flag[data-kind=hour] a").first)
        grid = page.locator("ul.roster li")
        assert grid.count() == 4
        assert page.locator("li.trainee.missing").count() == 1
        assert page.locator("li.trainee.missing").get_attribute("data-trainee") == "T-4"
        assert "拉卡莫尔" in page.locator("li.trainee.missing").inner_text()
        seen = page.locator("li[data-trainee='T-1'] .seen").inner_text()
        assert str(visibility["seen"]["T-1"]) in seen
        photo = page.locator("li[data-trainee='T-1'] img")
        photo.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle(), timeout=15_000)
        bars = page.locator("svg.headcount g[data-kind=moment]")
        assert bars.count() == len(visibility["moments"])
        assert page.locator("svg.headcount line[data-kind=mean]").count() == 1
        page.screenshot(path=str(ARTIFACTS / "class-hour-roster-zh.png"), full_page=True)
        assert serious_violations(page, axe_script) == []
    finally:
        server.stop()
