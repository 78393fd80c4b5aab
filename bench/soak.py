"""Soak (issue #7): `monitor serve` (embedded default: SQLite, in-process worker) in its own
process on loopback, fed learning events at a steady rate (default 1,000 a second, batches every
100 ms, fresh learners each minute) while recordings are uploaded alongside; at the end every
accepted event and recording must be stored exactly once. Prints the rate reached, batch
latency (p50, p99), and the resident memory of the server and of its worker process at the start
and at the end.

With --celery, the scale-out deployment instead: PostgreSQL (a fresh database on the machine's
server), the Redis broker and two Celery workers beside the API; their memory is reported too.

Run: .venv/bin/python bench/soak.py [SECONDS] [EVENTS_PER_SECOND] [--celery]   (default 600, 1000)
tests/api/test_soak.py runs one minute of the embedded one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import BIN, celery_worker, wait_healthy  # noqa: E402
from sample_videos.online_day import make_day  # noqa: E402


@dataclass
class SoakResult:
    seconds: float
    sent: int = 0  # events in batches the server acknowledged
    accepted: int = 0  # new events it said it stored
    uploads: int = 0  # recordings it acknowledged
    errors: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    rss_mb: dict[str, tuple[float, float]] = field(default_factory=dict)  # process -> (start, end)
    stored_events: int = 0
    stored_recordings: int = 0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def report(self) -> str:
        p50, p99 = (np.percentile(self.latencies_s, q) * 1000 for q in (50, 99)) if self.latencies_s else (0, 0)
        rss = ", ".join(f"{who} {a:.0f} -> {b:.0f} MB" if a else f"{who} (started later) {b:.0f} MB"
                        for who, (a, b) in sorted(self.rss_mb.items()))
        return (f"{self.seconds:.0f} s: {self.sent:,} events sent ({self.rate:,.0f}/s), {self.accepted:,} accepted, "
                f"{self.stored_events:,} stored; {self.uploads} recordings uploaded, {self.stored_recordings} stored; "
                f"batch latency p50 {p50:.0f} ms, p99 {p99:.0f} ms; RSS {rss}; {len(self.errors)} errors")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _processes(pid: int) -> dict[str, int]:
    """The server and its descendants (the in-process worker's spawned child)."""
    found = {"server": pid}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            for child in (task / "children").read_text().split():
                found[f"worker {child}"] = int(child)
                frontier.append(int(child))
    return found


def _keys(data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """An institution and a platform, made with the CLI as an operator would."""
    monitor = str(BIN / "monitor")
    subprocess.run([monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
    keys = {}
    for who, name, kind in (("institution", "Soak School", "institution"), ("platform", "learn.example", "platform")):
        subprocess.run([monitor, "admin", "create-org", name, "--kind", kind, *(["--jurisdiction", "demo"] if kind == "institution" else [])],
                       env=env, check=True, capture_output=True)
        made = subprocess.run([monitor, "admin", "create-key", name, "--person", "soak"], env=env, check=True,
                              capture_output=True, text=True)
        keys[who] = next(word for word in made.stdout.split() if word.startswith("tm_"))
    return keys


def soak(seconds: float, rate: int = 1000, folder: Path | None = None, celery: bool = False) -> SoakResult:
    folder = folder or Path(tempfile.mkdtemp(prefix="soak-"))
    env = {**os.environ, "MONITOR_DATA_DIR": str(folder / "data"), "MONITOR_CACHE_DIR": str(folder / "cache"),
                    # The sample day has no face pictures; the CLI it is checked against judges none.
                    "MONITOR_ONLINE_FACE_CHECKS": "false"}
    env.pop("DATABASE_URL", None)
    if not celery:
        return _soak(seconds, rate, folder, env, f"sqlite:///{folder / 'data' / 'monitor.db'}", workers=0)
    from bench.servers import postgres_database, redis_url

    with postgres_database("monitor_soak") as db_url:
        env.update(MONITOR_DATABASE_URL=db_url, MONITOR_QUEUE="celery", MONITOR_REDIS_URL=redis_url(12))
        return _soak(seconds, rate, folder, env, db_url, workers=2)


def _soak(seconds: float, rate: int, folder: Path, env: dict[str, str], db_url: str, workers: int) -> SoakResult:
    from sample_videos.make_sample import as_sent, make_sample_class

    keys = _keys(folder / "data", env)
    sample = make_sample_class(folder / "sample")
    manifest = json.loads(sample.read_text(encoding="utf-8"))
    recording = sample.parent / manifest["recordings"][0]["path"]
    day = make_day(learners=60, seed=5)["events"]  # about 10,000 events; learners renamed each round
    port = _free_port()
    server = subprocess.Popen([str(BIN / "monitor"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    celery = [subprocess.Popen(celery_worker(f"soak{k}", "--concurrency=1", "--loglevel=warning"), env=env,
                               stdout=subprocess.DEVNULL, stderr=(folder / f"worker{k}.log").open("ab"))
              for k in range(1, workers + 1)]

    def processes() -> dict[str, int]:
        found = _processes(server.pid)
        for k, worker in enumerate(celery, start=1):
            found.update({f"celery{k}" if who == "server" else f"celery{k} child {pid}": pid
                          for who, pid in _processes(worker.pid).items()})
        return found

    result = SoakResult(seconds=seconds)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout_s=30)
        with httpx.Client(base_url=url, timeout=60) as http:
            institution = {"Authorization": f"Bearer {keys['institution']}"}
            class_id = http.post("/classes", json=as_sent(manifest), headers=institution).json()["id"]
        stop = time.monotonic() + seconds
        threads = [threading.Thread(target=_send_events, args=(url, keys["platform"], day, rate, stop, result)),
                   threading.Thread(target=_upload, args=(url, keys["institution"], class_id, recording, stop, result))]
        began = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(min(30.0, seconds / 5))  # warmed up: the worker processes run, caches are filled
        start_rss = {who: _rss_mb(pid) for who, pid in processes().items()}
        for t in threads:
            t.join()
        result.seconds = time.monotonic() - began
        end_rss = {who: _rss_mb(pid) for who, pid in processes().items()}
        result.rss_mb = {who: (start_rss.get(who, 0.0), end_rss.get(who, 0.0)) for who in {**start_rss, **end_rss}}
    finally:
        for process in (server, *celery):
            process.terminate()
        for process in (server, *celery):
            process.wait(30)
    engine = create_engine(db_url)
    with engine.connect() as db:
        result.stored_events = db.execute(text("select count(*) from event")).scalar_one()
        result.stored_recordings = db.execute(text("select count(*) from recording")).scalar_one()
    engine.dispose()
    return result


def _send_events(url: str, key: str, day: list[dict[str, Any]], rate: int, stop: float, result: SoakResult) -> None:
    """rate/10 events every 100 ms; each pass over the day renames its learners and sessions."""
    per_batch = max(1, rate // 10)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    n, round_ = 0, 0
    with httpx.Client(base_url=url, timeout=60) as http:
        next_at = time.monotonic()
        while time.monotonic() < stop:
            batch = []
            for _ in range(per_batch):
                if n == len(day):
                    n, round_ = 0, round_ + 1
                e = day[n]
                batch.append({**e, "id": f"{e['id']}-r{round_}", "learner": f"{e['learner']}-r{round_}",
                              "session": f"{e['session']}-r{round_}", "platform": "learn.example"})
                n += 1
            began = time.monotonic()
            try:
                answer = http.post("/events", content="\n".join(json.dumps(b) for b in batch), headers=headers)
                if answer.status_code == 200:
                    result.latencies_s.append(time.monotonic() - began)
                    result.sent += len(batch)
                    result.accepted += answer.json()["accepted"]
                    for rejected in answer.json()["rejected"][:1]:
                        result.errors.append(f"events: rejected {rejected}")
                else:
                    result.errors.append(f"events: {answer.status_code} {answer.text[:200]}")
            except httpx.HTTPError as exc:
                result.errors.append(f"events: {exc!r}")
            next_at += 0.1
            time.sleep(max(0.0, next_at - time.monotonic()))


def _upload(url: str, key: str, class_id: str, recording: Path, stop: float, result: SoakResult) -> None:
    """A recording every 10 s, as a school uploading its day alongside."""
    data = recording.read_bytes()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
    with httpx.Client(base_url=url, timeout=120) as http:
        k = 0
        while time.monotonic() < stop:
            answer = http.post(f"/classes/{class_id}/recordings", params={"name": f"soak-{k}.mp4"}, content=data,
                               headers=headers)
            if answer.status_code == 201:
                result.uploads += 1
            else:
                result.errors.append(f"upload: {answer.status_code} {answer.text[:200]}")
            k += 1
            time.sleep(min(10.0, max(0.0, stop - time.monotonic())))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(args[0]) if args else 600.0
    rate = int(args[1]) if len(args) > 1 else 1000
    result = soak(seconds, rate, celery="--celery" in sys.argv)
    print(result.report())
    for error in result.errors[:5]:
        print("  ", error)
    matched = result.stored_events == result.accepted and result.stored_recordings == result.uploads
    print(f"counts match: {matched}   target: >= {rate:,} events/s, every acknowledged event and recording stored once")
    raise SystemExit(0 if matched and not result.errors else 1)


if __name__ == "__main__":
    main()
