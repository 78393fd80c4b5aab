"""Chaos (issue #7, faults): the scale-out deployment on this machine (the API, two Celery
workers, PostgreSQL, the Redis broker) while an institution uploads recordings and asks for
analyses and a platform streams events, and faults strike at random moments: the API server and
the workers killed with SIGKILL (and started again), PostgreSQL restarted, Redis restarted (it keeps
nothing: every queued message is lost).

Clients behave as the API asks: a request that got no answer, a 503 or a 429 is sent again
(events carry their ids; a recording re-sent with the same name and bytes is the stored one).
At the end, with every process up again: every acknowledged event stored exactly once, every
recording once, every job finished (none failed), each class's report the CLI's report for the
same files, and the sessions' verdicts the CLI's for the same events. Prints the counts.

Run: .venv/bin/python bench/chaos.py [SECONDS] [--faults api,worker,postgres,redis] [--seed N]
(default 180 s, all four). tests/api/test_chaos.py runs a short one. Restarting PostgreSQL and
Redis restarts this machine's shared servers (root; the commands of the machine notes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import (BIN, celery_worker, postgres_database, redis_url, restart_postgres,  # noqa: E402
                           restart_redis, wait_healthy)
from bench.soak import _free_port, _keys  # noqa: E402
from sample_videos.make_sample import as_sent  # noqa: E402
from sample_videos.online_day import make_day  # noqa: E402

REDIS_DB = 11
FAULTS = ("api", "worker", "postgres", "redis")
RETRY_STATUSES = (429, 502, 503, 504)


@dataclass
class ChaosResult:
    seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    events_sent: int = 0  # distinct events, every batch acknowledged in the end
    events_stored: int = 0
    event_ids_match: bool = False
    batch_retries: int = 0
    recordings_acknowledged: int = 0
    recordings_stored: int = 0
    upload_retries: int = 0
    jobs: Counter[str] = field(default_factory=Counter)  # status -> count
    server_errors: list[str] = field(default_factory=list)  # 500s and the like (target: none)
    reports_same: int = 0
    classes: int = 0
    sessions_same: bool = False
    sessions: int = 0

    @property
    def kept_promises(self) -> bool:
        return (self.events_stored == self.events_sent and self.event_ids_match
                and self.recordings_stored == self.recordings_acknowledged
                and set(self.jobs) <= {"done"} and self.reports_same == self.classes and self.sessions_same
                and not self.server_errors)

    def report(self) -> str:
        faults = ", ".join(f"{kind} x{n}" for kind, n in sorted(self.faults.items())) or "none"
        return (f"{self.seconds:.0f} s under faults ({faults}):\n"
                f"  events: {self.events_sent:,} acknowledged, {self.events_stored:,} stored "
                f"(ids {'the same' if self.event_ids_match else 'DIFFER'}); {self.batch_retries} batches sent again\n"
                f"  recordings: {self.recordings_acknowledged} acknowledged, {self.recordings_stored} stored; "
                f"{self.upload_retries} requests sent again\n"
                f"  jobs: {dict(self.jobs)}; reports the CLI's: {self.reports_same}/{self.classes}; "
                f"sessions the CLI's: {self.sessions_same} ({self.sessions})\n"
                f"  server errors: {len(self.server_errors)}")


class Deployment:
    """The processes and servers of one run; `env` is what each of them reads."""

    def __init__(self, folder: Path, db_url: str) -> None:
        self.folder, self.port = folder, _free_port()
        self.env = {**os.environ, "MONITOR_DATABASE_URL": db_url, "MONITOR_QUEUE": "celery",
                    "MONITOR_REDIS_URL": redis_url(REDIS_DB),
                    "MONITOR_DATA_DIR": str(folder / "data"), "MONITOR_CACHE_DIR": str(folder / "cache"),
                    # short leases and sweeps so that a run of minutes sees several take-overs
                    "MONITOR_JOB_LEASE_S": "6", "MONITOR_JOB_SWEEP_S": "5", "MONITOR_JUDGE_DELAY_S": "1",
                    "MONITOR_INGEST_RATE_LIMIT": "500/second",
                    # The sample day has no face pictures; the CLI it is checked against judges none.
                    "MONITOR_ONLINE_FACE_CHECKS": "false"}
        self.env.pop("DATABASE_URL", None)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        if name == "api":
            command = [str(BIN / "monitor"), "serve", "--port", str(self.port)]
        else:
            command = celery_worker(name, "--pool=solo", "--loglevel=info")
        self.processes[name] = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True, cwd=ROOT)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def wait_api(self) -> None:
        wait_healthy(self.url)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)


def _strike(deployment: Deployment, kind: str, rng: random.Random) -> None:
    if kind == "api":
        deployment.kill("api")
        time.sleep(rng.uniform(0.2, 1.5))
        deployment.start("api")
    elif kind == "worker":
        victim = rng.choice(["worker1", "worker2"])
        deployment.kill(victim)
        time.sleep(rng.uniform(0.2, 1.5))
        deployment.start(victim)
    elif kind == "postgres":
        restart_postgres()
    elif kind == "redis":
        restart_redis()


def _chaos(deployment: Deployment, kinds: list[str], stop: threading.Event, rng: random.Random,
           result: ChaosResult) -> None:
    """Every kind at least once (in a random order), then at random, every 4 to 9 seconds."""
    plan = rng.sample(kinds, len(kinds))
    while not stop.wait(rng.uniform(4.0, 9.0)):
        kind = plan.pop() if plan else rng.choice(kinds)
        _strike(deployment, kind, rng)
        result.faults[kind] += 1


class Client:
    """Sends a request until it gets an answer that is not 'come back later'; a 5xx other than
    those is a server error (recorded, and sent again: the run goes on to count the damage)."""

    def __init__(self, url: str, key: str, result: ChaosResult, counter: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
        self.result, self.counter = result, counter

    def send(self, method: str, path: str, ok: Callable[[httpx.Response], bool], **kwargs: Any) -> httpx.Response:
        tries = 0
        while True:
            tries += 1
            if tries > 1:
                setattr(self.result, self.counter, getattr(self.result, self.counter) + 1)
            try:
                answer = self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            if ok(answer):
                return answer
            if answer.status_code in RETRY_STATUSES:
                time.sleep(min(2.0, float(answer.headers.get("retry-after", "0.3"))))
                continue
            if answer.status_code >= 500:
                self.result.server_errors.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
                time.sleep(0.3)
                continue
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")


def _stream_events(client: Client, events: list[dict[str, Any]], batch: int, until: float) -> None:
    """The day's events in batches spread over the run (a platform's feed)."""
    headers = {"Content-Type": "application/x-ndjson"}
    batches = [events[i:i + batch] for i in range(0, len(events), batch)]
    pause = max(0.0, (until - time.monotonic()) / max(1, len(batches)))
    for part in batches:
        body = "\n".join(json.dumps(e, ensure_ascii=False) for e in part)
        answer = client.send("POST", "/events", lambda r: r.status_code == 200, content=body, headers=headers)
        if answer.json()["rejected"]:
            raise RuntimeError(f"events rejected: {answer.json()['rejected'][:2]}")
        client.result.events_sent += len(part)
        time.sleep(pause)


def _upload_resumable(client: Client, class_id: str, path: Path, start: str | None) -> None:
    created = client.send("POST", f"/classes/{class_id}/uploads", lambda r: r.status_code == 201,
                          json={"name": path.name, "start": start})
    upload, data, chunk = created.json()["id"], path.read_bytes(), 64 * 1024
    while True:
        offset = int(client.send("GET", f"/uploads/{upload}", lambda r: r.status_code == 200).headers["Upload-Offset"])
        if offset >= len(data):
            break
        client.send("PATCH", f"/uploads/{upload}", lambda r: r.status_code in (200, 409),
                    content=data[offset:offset + chunk], headers={"Upload-Offset": str(offset)})
    client.send("POST", f"/uploads/{upload}/finish", lambda r: r.status_code in (200, 201))


def _institution(client: Client, manifest: dict[str, Any], folder: Path, classes: int, until: float,
                 class_ids: list[str]) -> None:
    """Classes registered, recordings sent (one-shot and resumable, by turns), an analysis asked
    for after each class's files; spread over the run."""
    pause = max(0.0, (until - time.monotonic()) / max(1, classes))
    for n in range(classes):
        answer = client.send("POST", "/classes", lambda r: r.status_code in (200, 201),
                             json={**as_sent(manifest), "class_id": f"{manifest['class_id']}-{n}"})
        class_id = answer.json()["id"]
        class_ids.append(class_id)
        for k, ref in enumerate(manifest["recordings"]):
            path, start = folder / ref["path"], ref.get("start")
            if (n + k) % 2 == 0:
                params = {"name": path.name, **({"start": start} if start else {})}
                client.send("POST", f"/classes/{class_id}/recordings", lambda r: r.status_code in (200, 201),
                            params=params, content=path.read_bytes(),
                            headers={"Content-Type": "application/octet-stream"})
            else:
                _upload_resumable(client, class_id, path, start)
            client.result.recordings_acknowledged += 1
        client.send("POST", f"/classes/{class_id}/analyses", lambda r: r.status_code == 202)
        time.sleep(pause)


def _settled(db_url: str, timeout_s: float) -> Counter[str]:
    """Wait until no job is queued or running and no learner waits to be judged; job counts by status."""
    engine = create_engine(db_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            with engine.connect() as conn:
                jobs = Counter(dict(conn.execute(text("select status, count(*) from job group by status")).all()))
                dirty = conn.execute(text("select count(*) from dirty_learner")).scalar_one()
            if not (jobs["queued"] or jobs["running"] or dirty) or time.monotonic() > deadline:
                return jobs
            time.sleep(0.5)
    finally:
        engine.dispose()


def _expected_sessions(day: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from monitor.online.catalogue import Catalogue
    from monitor.online.engine import OnlineEngine
    from monitor.online.reader import collect, parse_record
    from monitor.policy import load_policy

    engine = OnlineEngine(load_policy("zhengzhou-2022"),
                          # the service judges a platform's course as online (#17): so does the CLI here
                          Catalogue.model_validate({"courses": {c: {**s, "mode": "online"} for c, s in day["courses"].items()},
                                                    "history": day["history"]}))
    engine.add(collect(parse_record(e, n) for n, e in enumerate(events, start=1)).events)
    return [s.model_dump(mode="json") for s in engine.sessions()]


def session_summary(sessions: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(s["learner"], s["session"], s["verdict"], round(s["credited_s"], 3),
             tuple(sorted((f["rule"], f.get("start")) for f in s["findings"]))) for s in sessions}


def _served_sessions(client: Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
        page = client.send("GET", "/sessions", lambda r: r.status_code == 200, params=params).json()
        out += page
        if len(page) < 1000:
            return out
        after = page[-1]["id"]


def _cli_report(manifest_path: Path) -> dict[str, Any]:
    done = subprocess.run([str(BIN / "monitor"), "analyze", str(manifest_path), "--json"], capture_output=True,
                          text=True, timeout=600, check=True)
    return json.loads(done.stdout)


def as_cli_would(served: dict[str, Any], class_id: str) -> Any:
    """A served report as the CLI prints it: less what only the service knows (the values it was
    officially judged by, the recordings' ids), under the CLI's class id."""
    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.endswith("recording_id") and k != "judged_by"}
        return value

    return {**strip(served), "class_id": class_id}


def run_chaos(seconds: float, kinds: list[str], seed: int = 1, classes: int = 4, learners: int = 40,
              folder: Path | None = None) -> ChaosResult:
    folder = folder or Path(tempfile.mkdtemp(prefix="chaos-"))
    with postgres_database("monitor_chaos") as db_url:
        return _run(db_url, folder, seconds, kinds, seed, classes, learners)


def _run(db_url: str, folder: Path, seconds: float, kinds: list[str], seed: int, classes: int,
         learners: int) -> ChaosResult:
    from sample_videos.make_sample import make_sample_class

    rng = random.Random(seed)
    deployment = Deployment(folder, db_url)
    result = ChaosResult()
    try:
        keys = _keys(folder / "data", deployment.env)
        sample = make_sample_class(folder / "sample")
        manifest = json.loads(sample.read_text(encoding="utf-8"))
        expected_report = _cli_report(sample)
        day = make_day(learners=learners, seed=seed)
        events = [{**e, "platform": "learn.example"} for e in day["events"]]
        for process in ("api", "worker1", "worker2"):
            deployment.start(process)
        deployment.wait_api()
        platform = Client(deployment.url, keys["platform"], result, "batch_retries")
        institution = Client(deployment.url, keys["institution"], result, "upload_retries")
        for course, spec in day["courses"].items():
            platform.send("PUT", f"/courses/{course}", lambda r: r.status_code == 200, json=spec)
        assessments = [{"learner": who, **earlier} for who, items in day["history"].items() for earlier in items]
        platform.send("POST", "/assessments", lambda r: r.status_code == 200, json=assessments)

        stop = threading.Event()
        began = time.monotonic()
        until = began + seconds
        class_ids: list[str] = []
        chaos = threading.Thread(target=_chaos, args=(deployment, kinds, stop, rng, result), daemon=True)
        clients = [threading.Thread(target=_stream_events, args=(platform, events, 200, until)),
                   threading.Thread(target=_institution, args=(institution, manifest, sample.parent, classes, until,
                                                               class_ids))]
        chaos.start()
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        while time.monotonic() < until:  # the faults go on to the end of the run, jobs under way
            time.sleep(0.5)
        stop.set()
        chaos.join()
        for process, handle in deployment.processes.items():  # every process up for the end
            if handle.poll() is not None:
                deployment.start(process)
        deployment.wait_api()
        result.jobs = _settled(db_url, timeout_s=300)
        result.seconds = time.monotonic() - began

        engine = create_engine(db_url)
        with engine.connect() as conn:
            stored_ids = [row[0] for row in conn.execute(text("select event_id from event"))]
            result.recordings_stored = conn.execute(text("select count(*) from recording")).scalar_one()
        engine.dispose()
        result.events_stored = len(stored_ids)
        result.event_ids_match = sorted(stored_ids) == sorted(e["id"] for e in events)
        result.classes = len(class_ids)
        for class_id in class_ids:
            report = institution.send("GET", f"/classes/{class_id}/report", lambda r: r.status_code in (200, 404))
            same = report.status_code == 200 and as_cli_would(report.json(), expected_report["class_id"]) == expected_report
            result.reports_same += same
        served = _served_sessions(platform)
        result.sessions = len(served)
        result.sessions_same = session_summary(served) == session_summary(_expected_sessions(day, events))
        return result
    finally:
        deployment.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seconds", nargs="?", type=float, default=180.0)
    parser.add_argument("--faults", default=",".join(FAULTS), help="of: " + ", ".join(FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--learners", type=int, default=60)
    args = parser.parse_args()
    kinds = [k for k in args.faults.split(",") if k]
    unknown = set(kinds) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    result = run_chaos(args.seconds, kinds, args.seed, args.classes, args.learners)
    print(result.report())
    for error in result.server_errors[:5]:
        print("  ", error)
    print(f"promises kept: {result.kept_promises}")
    raise SystemExit(0 if result.kept_promises else 1)


if __name__ == "__main__":
    main()
