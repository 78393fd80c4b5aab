"""ADL's LRS conformance suite (adlnet/lrs-conformance-test-suite, MIT; ../shared/xapi-conformance)
run against a real server: `python tests/conformance/run.py` (what `make conformance` runs).

1. the suite's source is copied out of shared/ (read-only in CI) into tests/.data/xapi-conformance
   and its npm dependencies installed there (once; again when its package.json changes);
2. `monitor serve` starts on a free port with a fresh SQLite database and storage folder in a
   temporary directory, and a platform with a key is made;
3. the suite's xAPI 1.0.3 tests run against http://127.0.0.1:PORT/xapi with HTTP Basic auth
   (user `tm_<id>`, password the key's secret);
4. the results are printed per part (pass / fail, in or out of this service's scope) and written
   to tests/.data/xapi-conformance/results.json: every test with its part, title and status.

Exit status 0 when the run finished (whatever it counted; tests/conformance/test_conformance.py
judges the counts), 2 when it could not run (no node/npm, the install failed, no server).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(os.environ.get("MONITOR_XAPI_CONFORMANCE_SOURCE", ROOT.parent / "shared" / "xapi-conformance"))
WORK = ROOT / "tests" / ".data" / "xapi-conformance"
SUITE = WORK / "suite"
RESULTS = WORK / "results.json"

# Parts whose requests this service answers: the whole statement resource, the version header,
# encoding and content types, the alternate request syntax, authentication, about. The others
# need what this service does not offer, on purpose (see the README): the document resources
# (state, activity and agent profiles) with their concurrency control, the agents and
# activities resources.
OUT_OF_SCOPE = {
    "Communication 2.2": "document resources (state, activity and agent profiles) are not offered",
    "Communication 2.3": "the state resource is not offered",
    "Communication 2.4": "the agents resource is not offered",
    "Communication 2.5": "the activities resource is not offered",
    "Communication 2.6": "the agent profile resource is not offered",
    "Communication 2.7": "the activity profile resource is not offered",
    "Communication 3.1": "concurrency control (ETag, If-Match) belongs to the document resources",
}


# Tests of in-scope parts that need a statement query all the same.
OUT_OF_SCOPE_TESTS = [
    (re.compile(r"HEAD (activities|agents)"), "HEAD on the activities, agents and document resources, not offered"),
]


def scope_of(part: str, title: str) -> str:
    if part in OUT_OF_SCOPE:
        return "out: " + OUT_OF_SCOPE[part]
    for pattern, reason in OUT_OF_SCOPE_TESTS:
        if pattern.search(title):
            return "out: " + reason
    return "in"


def log(message: str) -> None:
    print(f"[conformance] {message}", flush=True)


def prepare_suite() -> None:
    """Copy the suite out of shared/ and install its npm dependencies (skipped when up to date)."""
    if not SOURCE.is_dir():
        raise SystemExit(f"conformance suite not found at {SOURCE}")
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: the conformance suite needs Node.js and npm")
    fresh = (SUITE / "node_modules").is_dir() and filecmp.cmp(SOURCE / "package.json", SUITE / "package.json", shallow=False)
    if fresh and (SUITE / ".copied").exists():
        return
    log(f"copying {SOURCE} to {SUITE}")
    if SUITE.exists():
        shutil.rmtree(SUITE)
    shutil.copytree(SOURCE, SUITE, ignore=shutil.ignore_patterns("node_modules", "logs"))
    for path in [SUITE, *SUITE.rglob("*")]:  # shared/ is read-only: the copy must be writable
        path.chmod(path.stat().st_mode | 0o200)
    log("npm install (the suite's dependencies)")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SUITE)
    if done.returncode != 0:
        raise SystemExit("npm install failed for the conformance suite")
    (SUITE / ".copied").touch()


CLIENT_SOURCE = Path(__file__).resolve().parent / "client"
CLIENT = WORK.parent / "xapi-client"


def prepare_client() -> Path:
    """@xapi/xapi from npm (the version pinned in tests/conformance/client/package.json) beside the
    script that sends a session with it; the folder to run `node send.mjs` in."""
    CLIENT.mkdir(parents=True, exist_ok=True)
    fresh = (CLIENT / "node_modules" / "@xapi" / "xapi").is_dir() and (CLIENT / "package.json").exists() and \
        filecmp.cmp(CLIENT_SOURCE / "package.json", CLIENT / "package.json", shallow=False)
    for name in ("package.json", "send.mjs"):
        shutil.copyfile(CLIENT_SOURCE / name, CLIENT / name)
    if not fresh:
        log("npm install (@xapi/xapi for the real-client test)")
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT, check=False)
        if done.returncode != 0:
            raise SystemExit("npm install failed for @xapi/xapi")
    return CLIENT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the service at {url} did not come up")


def make_platform(env: dict[str, str]) -> str:
    """A migrated database with one platform and its key; the key."""
    bin_dir = Path(sys.executable).parent
    monitor = str(bin_dir / "monitor")
    subprocess.run([monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([monitor, "admin", "create-org", "conformance.example", "--kind", "platform"], env=env, check=True,
                   capture_output=True)
    for _ in range(20):
        made = subprocess.run([monitor, "admin", "create-key", "conformance.example", "--person", "ADL conformance suite"],
                              env=env, check=True, capture_output=True, text=True)
        key = made.stdout.strip().splitlines()[-1].strip()
        # A secret beginning with "-" (one in 64) is read by the runner's option parser as flags
        # (`-p -V…`: it printed its version and ran nothing, and `--authPassword=-V…` is refused):
        # such a key is as valid as any, the runner just cannot be given it.
        if not basic_user(key)[1].startswith("-"):
            return key
    raise SystemExit("no key whose secret the conformance runner can take was made in 20 tries")


def leaves(node: dict[str, Any], trail: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    tests = node.get("tests") or []
    here = trail + (node.get("title") or "",)
    if not tests:
        yield here, node
    for child in tests:
        yield from leaves(child, here)


def part_of(title: str) -> str:
    """'Statement Resource Requirements (Communication 2.1)' -> 'Communication 2.1'."""
    if "(" in title and title.rstrip().endswith(")"):
        inside = title.rsplit("(", 1)[1].rstrip(")").split(",")[0].strip()
        words = inside.split()
        if len(words) >= 2 and words[0] in ("Data", "Communication"):
            return f"{words[0]} {words[1]}"
    return title


def summarise(run_log: dict[str, Any]) -> dict[str, Any]:
    tests = []
    root = run_log.get("log") or {}
    for top in root.get("tests") or []:
        part = part_of(top.get("title", ""))
        for trail, leaf in leaves(top):
            title = " > ".join(t for t in trail if t)
            tests.append({"part": part, "title": title, "status": leaf.get("status") or "not run",
                          "scope": scope_of(part, title), "error": (leaf.get("error") or "")[:500]})
    parts: dict[str, dict[str, Any]] = {}
    for t in tests:
        p = parts.setdefault(t["part"], {"in scope": {"passed": 0, "failed": 0}, "out of scope": {"passed": 0, "failed": 0},
                                          "reasons": []})
        side = p["in scope" if t["scope"] == "in" else "out of scope"]
        side["passed" if t["status"] == "passed" else "failed"] += 1
        if t["scope"] != "in" and t["scope"][5:] not in p["reasons"]:
            p["reasons"].append(t["scope"][5:])
    return {"summary": run_log.get("summary"), "state": run_log.get("state"), "parts": parts, "tests": tests}


@contextmanager
def served(**settings: str) -> Iterator[tuple[str, str]]:
    """`monitor serve` on a free port, a fresh SQLite database and storage in a temporary folder,
    one platform with a key: (the service's URL, the key). MONITOR_* settings may be given."""
    with tempfile.TemporaryDirectory(prefix="monitor-xapi-") as tmp:
        port = free_port()
        env = {**os.environ, "MONITOR_DATA_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/monitor.db",
               "MONITOR_INGEST_RATE_LIMIT": "100000/second", "MONITOR_QUEUE": "inprocess",
               **{f"MONITOR_{k.upper()}": v for k, v in settings.items()}}
        env.pop("MONITOR_DATABASE_URL", None)
        key = make_platform(env)
        WORK.mkdir(parents=True, exist_ok=True)
        with open(WORK / "server.log", "w") as server_log:
            server = subprocess.Popen([str(Path(sys.executable).parent / "monitor"), "serve", "--port", str(port)],
                                      env=env, stdout=server_log, stderr=subprocess.STDOUT)
            try:
                wait_healthy(f"http://127.0.0.1:{port}")
                yield f"http://127.0.0.1:{port}", key
            finally:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()


def basic_user(key: str) -> tuple[str, str]:
    """HTTP Basic for a key: user `tm_<id>`, password the secret after it."""
    prefix, key_id, secret = key.split("_", 2)
    return f"{prefix}_{key_id}", secret


def run(grep: str | None = None) -> dict[str, Any]:
    prepare_suite()
    with served() as (url, key):
        user, password = basic_user(key)
        for old in (SUITE / "logs").glob("*.log") if (SUITE / "logs").is_dir() else []:
            old.unlink()
        command = ["node", "bin/console_runner.js", "-x", "1.0.3", "-e", f"{url}/xapi", "-a", "-u", user, "-p", password]
        if grep:
            command += ["-g", grep]
        log(f"running the suite against {url}/xapi (xAPI 1.0.3)")
        with open(WORK / "suite.log", "w") as out:
            subprocess.run(command, cwd=SUITE, stdout=out, stderr=subprocess.STDOUT, timeout=3600, check=False)
    logs = sorted((SUITE / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
    if not logs:
        said = (WORK / "suite.log").read_text(errors="replace")[-2000:] if (WORK / "suite.log").exists() else ""
        raise SystemExit(f"the suite wrote no results (see {WORK / 'suite.log'}): {said!r}")
    result = summarise(json.loads(logs[-1].read_text()))
    RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


def report(result: dict[str, Any]) -> None:
    print(f"{'part':<20} {'in scope':>15} {'out of scope':>15}  (passed/failed; why out of scope)")
    for part, p in sorted(result["parts"].items()):
        inside, outside = p["in scope"], p["out of scope"]
        cells = [f"{s['passed']}/{s['failed']}" if s["passed"] + s["failed"] else "-" for s in (inside, outside)]
        print(f"{part:<20} {cells[0]:>15} {cells[1]:>15}  {'; '.join(p['reasons'])}")
    passed = sum(p["in scope"]["passed"] for p in result["parts"].values())
    failed = sum(p["in scope"]["failed"] for p in result["parts"].values())
    print(f"in scope: {passed} passed, {failed} failed; every test's result in {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grep", help="only the suite's tests matching this pattern")
    parser.add_argument("--install-only", action="store_true", help="copy the suite and install its dependencies, run nothing")
    args = parser.parse_args()
    if args.install_only:
        prepare_suite()
        prepare_client()
        return
    report(run(args.grep))


if __name__ == "__main__":
    main()
