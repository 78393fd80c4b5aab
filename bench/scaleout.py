"""Scale-out across hosts (issue #7): the database and broker, the API and two Celery workers each
on a host of their own (network namespaces joined by a bridge, as the README's scale-out section
deploys them), sharing one storage folder. Classes are uploaded and analysed; one worker's
network is cut in the middle of a job. Expected: the jobs spread over both workers, the cut
worker's job is finished by the other, and every report is the one `monitor analyze` gives in
one process for the same files.

    host        address       runs
    tm-db       10.77.0.10    PostgreSQL (its own cluster, made here), Redis
    tm-api      10.77.0.20    monitor serve --host 10.77.0.20   (MONITOR_QUEUE=celery)
    tm-worker1  10.77.0.31    celery -A api.jobs.celery_app worker -Q monitor
    tm-worker2  10.77.0.32    celery -A api.jobs.celery_app worker -Q monitor

Run (root; iproute2 and PostgreSQL's server binaries): .venv/bin/python bench/scaleout.py [CLASSES]
tests/api/test_scaleout.py runs it with six classes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chaos import _cli_report, as_cli_would  # noqa: E402
from bench.servers import BIN, celery_worker, wait_healthy  # noqa: E402

SUBNET = "10.77.0"
HOSTS = {"db": 10, "api": 20, "worker1": 31, "worker2": 32}
BRIDGE = "tmbr0"
PG_BIN = Path("/usr/lib/postgresql") / (sorted(os.listdir("/usr/lib/postgresql"))[-1] if Path("/usr/lib/postgresql").is_dir() else "none") / "bin"


def address(host: str) -> str:
    return f"{SUBNET}.{HOSTS[host]}"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Network:
    """One namespace per host, each with a veth whose other end is on a bridge in this (the
    operator's) namespace; cutting a host takes its bridge end down, as unplugging its cable."""

    def __enter__(self) -> "Network":
        self.__exit__()  # what an interrupted run left behind
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for host in HOSTS:
            ns, plug = f"tm-{host}", f"tmv-{host}"
            _ip("netns", "add", ns)
            _ip("link", "add", plug, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("link", "set", plug, "master", BRIDGE, "up")
            _ip("-n", ns, "addr", "add", f"{address(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        return self

    def cut(self, host: str) -> None:
        _ip("link", "set", f"tmv-{host}", "down")

    def mend(self, host: str) -> None:
        _ip("link", "set", f"tmv-{host}", "up")

    def __exit__(self, *_: object) -> None:
        for host in HOSTS:
            subprocess.run(["ip", "netns", "del", f"tm-{host}"], capture_output=True)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def on(host: str, command: list[str]) -> list[str]:
    return ["ip", "netns", "exec", f"tm-{host}", *command]


@dataclass
class ScaleOutResult:
    jobs_by_worker: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    cut_job: str | None = None
    cut_job_finished_by: str | None = None
    reports_same: int = 0
    classes: int = 0
    seconds: float = 0.0

    @property
    def kept_promises(self) -> bool:
        return (len(self.jobs_by_worker) == 2 and set(self.statuses) == {"done"} and self.cut_job is not None
                and self.cut_job_finished_by == "worker2" and self.reports_same == self.classes)

    def report(self) -> str:
        return (f"{self.classes} classes analysed in {self.seconds:.0f} s; jobs finished by "
                f"{dict(sorted(self.jobs_by_worker.items()))}; statuses {dict(self.statuses)}; worker1 cut during "
                f"job {self.cut_job}, finished by {self.cut_job_finished_by}; reports the CLI's: "
                f"{self.reports_same}/{self.classes}")


class Cluster:
    """The servers and processes on their hosts, and the operator's view of them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_url = f"postgresql+psycopg://postgres@{address('db')}:5432/postgres"
        self.redis_password = secrets.token_hex(16)  # off loopback, Redis wants a password (protected mode)
        self.env = {**os.environ, "MONITOR_DATABASE_URL": self.db_url, "MONITOR_QUEUE": "celery",
                    "MONITOR_REDIS_URL": f"redis://:{self.redis_password}@{address('db')}:6379/0",
                    "MONITOR_DATA_DIR": str(folder / "shared"),  # the shared storage folder
                    "MONITOR_CACHE_DIR": str(folder / "shared" / "cache"),
                    "MONITOR_JOB_LEASE_S": "6", "MONITOR_JOB_SWEEP_S": "3",
                    # The sample day has no face pictures; the CLI it is checked against judges none.
                    "MONITOR_ONLINE_FACE_CHECKS": "false"}
        self.env.pop("DATABASE_URL", None)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.pg_home: Path | None = None

    def start_database(self) -> None:
        # PostgreSQL's own user must reach its folder: not under a private temporary folder.
        self.pg_home = Path(tempfile.mkdtemp(prefix="tm-scaleout-pg-"))
        self.pg_home.chmod(0o755)
        data = self.pg_home / "data"
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "--no-sync"], check=True, capture_output=True, timeout=120)
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        options = f"-c listen_addresses={address('db')} -c unix_socket_directories={data} -c fsync=off"
        subprocess.run(on("db", ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-w",
                                 "-l", str(data / "server.log"), "-o", options, "start"]),
                       check=True, capture_output=True, timeout=120)
        self._spawn("redis", "db", ["redis-server", "--bind", address("db"), "--port", "6379", "--save", "",
                                    "--appendonly", "no", "--requirepass", self.redis_password])

    def stop_database(self) -> None:
        if self.pg_home is None:
            return
        data = self.pg_home / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.pg_home, ignore_errors=True)

    def _spawn(self, name: str, host: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(on(host, command), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True, cwd=ROOT)

    def start_service(self) -> None:
        subprocess.run(on("api", [str(BIN / "monitor"), "db", "upgrade"]), env=self.env, check=True,
                       capture_output=True, timeout=120)
        self._spawn("api", "api", [str(BIN / "monitor"), "serve", "--host", address("api"), "--port", "8000"])
        for worker in ("worker1", "worker2"):
            self._spawn(worker, worker, celery_worker(worker, "--pool=solo", "--loglevel=info"))

    def key(self, name: str, kind: str) -> str:
        monitor = str(BIN / "monitor")
        where = ["--jurisdiction", "demo"] if kind == "institution" else []  # the 1-minute sample class
        subprocess.run(on("api", [monitor, "admin", "create-org", name, "--kind", kind, *where]), env=self.env, check=True,
                       capture_output=True, timeout=60)
        made = subprocess.run(on("api", [monitor, "admin", "create-key", name, "--person", "operator"]), env=self.env,
                              check=True, capture_output=True, text=True, timeout=60)
        return next(word for word in made.stdout.split() if word.startswith("tm_"))

    def worker_of(self, job_worker: str | None) -> str:
        """Job.worker is host:pid; `ip netns exec` execs the command, so the pid is the one started."""
        pid = (job_worker or ":").rsplit(":", 1)[1]
        return next((name for name, p in self.processes.items() if str(p.pid) == pid), job_worker or "nobody")

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)
        self.stop_database()


def _wait(condition: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def run_scaleout(classes: int = 6, folder: Path | None = None) -> ScaleOutResult:
    from sample_videos.make_sample import as_sent, make_sample_class

    folder = folder or Path(tempfile.mkdtemp(prefix="scaleout-"))
    sample = make_sample_class(folder / "sample")
    manifest = json.loads(sample.read_text(encoding="utf-8"))
    expected = _cli_report(sample)  # the single-process run
    result = ScaleOutResult(classes=classes)
    with Network() as network:
        cluster = Cluster(folder)
        try:
            cluster.start_database()
            cluster.start_service()
            key = cluster.key("Scale School", "institution")
            api = httpx.Client(base_url=f"http://{address('api')}:8000", timeout=60,
                               headers={"Authorization": f"Bearer {key}"})
            wait_healthy(f"http://{address('api')}:8000")
            began = time.monotonic()
            class_ids = []
            for n in range(classes):
                made = api.post("/classes", json={**as_sent(manifest), "class_id": f"{manifest['class_id']}-{n}"})
                assert made.status_code == 201, made.text
                class_ids.append(made.json()["id"])
                for ref in manifest["recordings"]:
                    params = {"name": ref["path"], **({"start": ref["start"]} if ref.get("start") else {})}
                    sent = api.post(f"/classes/{class_ids[-1]}/recordings", params=params,
                                    content=(sample.parent / ref["path"]).read_bytes())
                    assert sent.status_code == 201, sent.text
            jobs = [api.post(f"/classes/{c}/analyses").json()["id"] for c in class_ids]
            db = create_engine(cluster.db_url, pool_pre_ping=True)

            def running_on_worker1() -> str | None:
                """A job worker1 is under way with, once it has finished one (both workers share)."""
                with db.connect() as conn:
                    rows = conn.execute(text("select id, status, worker, progress from job")).all()
                mine = [(job, status, progress) for job, status, worker, progress in rows
                        if cluster.worker_of(worker) == "worker1"]
                if not any(status == "done" for _, status, _ in mine):
                    return None
                return next((job for job, status, progress in mine if status == "running" and progress > 0.1), None)

            result.cut_job = _wait(running_on_worker1, 120, "worker1 to be under way with its second job")
            network.cut("worker1")

            def settled() -> bool:
                with db.connect() as conn:
                    statuses = dict(conn.execute(text("select id, status from job")).all())
                return all(statuses.get(job) in ("done", "failed") for job in jobs)

            _wait(settled, 300, "every analysis to finish")
            result.seconds = time.monotonic() - began
            network.mend("worker1")  # back on the network, worker1 finds its job taken and writes nothing
            time.sleep(8)
            with db.connect() as conn:
                rows = conn.execute(text("select id, status, worker from job where kind = 'analyze_class'")).all()
            db.dispose()
            for job, status, worker in rows:
                result.statuses[status] += 1
                result.jobs_by_worker[cluster.worker_of(worker)] += 1
                if job == result.cut_job:
                    result.cut_job_finished_by = cluster.worker_of(worker)
            for class_id in class_ids:
                report = api.get(f"/classes/{class_id}/report")
                result.reports_same += (report.status_code == 200 and
                                        as_cli_would(report.json(), expected["class_id"]) == expected)
            return result
        finally:
            cluster.stop()


def main() -> None:
    classes = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    result = run_scaleout(classes)
    print(result.report())
    print(f"promises kept: {result.kept_promises}")
    raise SystemExit(0 if result.kept_promises else 1)


if __name__ == "__main__":
    main()
