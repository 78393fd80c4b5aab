"""A real xAPI client, unmodified: `@xapi/xapi` from npm sends a Video Profile session with the
monitor's supervision statements (monitor/online/xapi_profile/example-session.json) to a started
server over HTTP Basic auth, part one statement per request, part as a batch; every id comes back
in order, a statement reads back as stored, and the session is judged."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.conformance import run as conformance
from tests.conformance.run import basic_user, served
from tests.conftest import missing

SESSION = Path(__file__).resolve().parents[2] / "monitor" / "online" / "xapi_profile" / "example-session.json"


def test_xapi_xapi_sends_a_session_unmodified_and_it_is_judged(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("Node.js and npm are needed to run @xapi/xapi")
    if not SESSION.exists():
        missing(f"the example session {SESSION} is not there")
    try:
        client = conformance.prepare_client()
    except SystemExit as exc:
        missing(f"@xapi/xapi could not be installed: {exc}")
    statements = json.loads(SESSION.read_text(encoding="utf-8"))
    learner = statements[0]["actor"]["account"]["name"]
    (tmp_path / "session.json").write_text(json.dumps(statements, ensure_ascii=False), encoding="utf-8")
    # Face checks off: the example's captures name images this server was never sent (POST /captures).
    with served(online_face_checks="false", judge_delay_s="0.2") as (url, key):
        user, password = basic_user(key)
        sent = subprocess.run(["node", "send.mjs", f"{url}/xapi/", user, password, str(tmp_path / "session.json"), "5"],
                              cwd=client, capture_output=True, text=True, timeout=120, check=False)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        answer = json.loads(sent.stdout.strip().splitlines()[-1])
        assert answer["ids"] == [s["id"] for s in statements]
        assert "1.0.3" in answer["about"]["version"]
        assert answer["readBack"]["id"] == statements[0]["id"] and answer["readBack"]["stored"]
        deadline, sessions = time.monotonic() + 60, []
        while time.monotonic() < deadline and not sessions:
            sessions = httpx.get(f"{url}/sessions", params={"learner": learner},
                                 headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
            time.sleep(0.5)
        assert sessions, "the session was not judged"
        assert sessions[0]["verdict"] in ("valid", "invalid", "review"), sessions[0]
