"""Benchmark of the service's ingestion (issue #5).

In one run, on loopback, each server a separate `uvicorn` process:
 (a) events: batches of 1,000 events (NDJSON) from CLIENTS concurrent clients to `monitor serve`
     (SQLite file, in-process worker judging as events arrive), then the same to PostgreSQL;
     the ceiling is a bare FastAPI endpoint inserting the same rows into the same table without
     validation, deduplication, audit or rules (bench/ceiling_app.py), measured on the same
     database in the same run. Target: >= 20,000 events/s stored on SQLite and >= 50 % of the ceiling.
     p50/p99 batch latency are printed.
 (b) upload: one 1 GB recording streamed to /classes/{id}/recordings (hashed, probed, stored)
     against the ceiling's bare streaming endpoint; MB/s and the server's RSS before, after and
     at its peak (flat means the file never sits in memory).

Run: .venv/bin/python bench/ingest.py [LEARNERS] [--no-upload]
Generated data goes to bench/out/ingest/ (never committed).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.store.keys import create_key, create_organisation  # noqa: E402
from api.core.service import Service  # noqa: E402
from api.core.settings import ServiceSettings  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from sample_videos.online_day import make_day  # noqa: E402

OUT = ROOT / "bench" / "out" / "ingest"
BIN = Path(sys.executable).parent
CLIENTS = 4
BATCH = 1000
PLATFORM = "bench-platform"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = (OUT / "servers.log").open("ab")  # a server's own complaints, if any, for whoever runs this
        self.process = subprocess.Popen([*command, "--port", str(self.port)], cwd=ROOT, env={**os.environ, **env},
                                        stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/docs", timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"server {command} did not start")
                time.sleep(0.2)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def _fresh_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def _prepare(url: str, data_dir: Path, kind: str) -> tuple[str, str]:
    """Migrate, register the organisation; its id and a key."""
    upgrade(url)
    service = Service.from_settings(ServiceSettings(data_dir=data_dir, database_url=url))
    with service.session() as db:
        org = create_organisation(db, PLATFORM if kind == "platform" else "Bench School", kind,
                                  jurisdiction="demo" if kind == "institution" else None)  # the 1-minute sample
        key = create_key(db, org, "bench")[1]
    service.engine.dispose()
    return org.id, key


def _send_all(url: str, key: str, batches: list[bytes]) -> tuple[float, list[float], int]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    latencies: list[float] = []
    stored = [0]

    def client(share: list[bytes]) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for body in share:
                began = time.perf_counter()
                r = http.post("/events", content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                r.raise_for_status()
                stored[0] += r.json()["accepted"]

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, [batches[i::CLIENTS] for i in range(CLIENTS)]))
    return time.perf_counter() - began, latencies, stored[0]


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def bench_events(kind: str, batches: list[bytes], total: int) -> None:
    figures = {}
    for side in ("monitor", "ceiling"):
        url = _fresh_database(kind, OUT / "db")
        data_dir = OUT / f"data-{uuid.uuid4().hex[:6]}"
        try:
            org, key = _prepare(url, data_dir, "platform")
            env = {"MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(data_dir), "BENCH_ORG": org,
                   "BENCH_UPLOADS": str(data_dir)}
            command = ([str(BIN / "monitor"), "serve"] if side == "monitor"
                       else [str(BIN / "uvicorn"), "bench.ceiling_app:app", "--log-level", "warning"])
            server = Server(command, env)
            try:
                seconds, latencies, stored = _send_all(server.url, key, batches)
            finally:
                server.stop()
            if stored != total:
                raise SystemExit(f"{side}: {stored} events stored of {total}")
            figures[side] = (total / seconds, _p(latencies, 50), _p(latencies, 99))
        finally:
            _drop(url)
    (rate, p50, p99), (ceiling, c50, c99) = figures["monitor"], figures["ceiling"]
    print(f"events on {kind:<10}: monitor {rate:9,.0f} ev/s (p50 {p50 * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms per batch)"
          f" | ceiling {ceiling:9,.0f} ev/s (p50 {c50 * 1000:6.1f} ms, p99 {c99 * 1000:6.1f} ms)"
          f" | ratio {rate / ceiling:.2f}" + (f" | target 20,000 ev/s: {rate / 20000:.2f}x" if kind == "sqlite" else ""),
          flush=True)


def make_big_recording(path: Path, size_bytes: int) -> None:
    """A valid MP4 of about `size_bytes`: 10 s of 720p noise encoded once, its packets muxed again
    and again with shifted timestamps (fast: no re-encoding)."""
    import av
    import numpy as np

    from sample_videos.writer import write_video

    clip = path.with_suffix(".clip.mp4")
    rng = np.random.default_rng(1)
    write_video(clip, ((k, rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)) for k in range(250)), 25, (1280, 720),
                gop=50, crf=10)
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        packets = [(p.pts, p.dts, bytes(p), p.is_keyframe) for p in source.demux(stream) if p.size]
        span = max(p[0] for p in packets) + (packets[1][0] - packets[0][0] if len(packets) > 1 else 1)
        with av.open(str(path), "w") as target:
            out = target.add_stream_from_template(stream)
            written, loop = 0, 0
            while written < size_bytes:
                for pts, dts, data, key in packets:
                    packet = av.Packet(data)
                    packet.stream, packet.time_base = out, stream.time_base
                    packet.pts, packet.dts = pts + loop * span, dts + loop * span
                    packet.is_keyframe = key
                    target.mux(packet)
                    written += len(data)
                loop += 1
    clip.unlink()


def bench_upload(size_mb: int) -> None:
    recording = OUT / f"recording-{size_mb}MB.mp4"
    if not recording.exists():
        print(f"making a {size_mb} MB recording under {OUT} …", flush=True)
        make_big_recording(recording, size_mb * 1024 * 1024)
    size = recording.stat().st_size
    figures = {}
    for side in ("monitor", "ceiling"):
        url = _fresh_database("sqlite", OUT / "db")
        data_dir = OUT / f"data-{uuid.uuid4().hex[:6]}"
        org, key = _prepare(url, data_dir, "institution")
        env = {"MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(data_dir), "BENCH_ORG": org, "BENCH_UPLOADS": str(data_dir)}
        command = ([str(BIN / "monitor"), "serve"] if side == "monitor"
                   else [str(BIN / "uvicorn"), "bench.ceiling_app:app", "--log-level", "warning"])
        server = Server(command, env)
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with httpx.Client(base_url=server.url, timeout=600) as http:
                path = "/upload"
                if side == "monitor":
                    manifest = {"class_id": "BENCH", "teachers": [{"id": "E-01"}],
                                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                                              "end": "2026-11-20T08:45:00+08:00"}]}
                    klass = http.post("/classes", json=manifest, headers=headers).json()["id"]
                    path = f"/classes/{klass}/recordings?name=big.mp4"
                before = _rss_kb(server.process.pid)

                def chunks():  # type: ignore[no-untyped-def]
                    with recording.open("rb") as handle:
                        while block := handle.read(1 << 20):
                            yield block

                began = time.perf_counter()
                r = http.post(path, content=chunks(), headers={**headers, "Content-Type": "application/octet-stream"})
                seconds = time.perf_counter() - began
                r.raise_for_status()
                after, peak = _rss_kb(server.process.pid), _rss_kb(server.process.pid, "VmHWM")
        finally:
            server.stop()
        figures[side] = (size / seconds / 1e6, before, after, peak)
    m, c = figures["monitor"], figures["ceiling"]
    print(f"upload {size / 1e6:,.0f} MB: monitor {m[0]:6.1f} MB/s (sha256 + probe + store; RSS {m[1] / 1024:.0f} -> "
          f"{m[2] / 1024:.0f} MB, peak {m[3] / 1024:.0f} MB) | ceiling {c[0]:6.1f} MB/s (RSS {c[1] / 1024:.0f} -> "
          f"{c[2] / 1024:.0f} MB, peak {c[3] / 1024:.0f} MB) | ratio {m[0] / c[0]:.2f}", flush=True)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    learners = int(args[0]) if args else 600
    OUT.mkdir(parents=True, exist_ok=True)
    events = make_day(learners=learners, seed=3)["events"]
    lines = [json.dumps({**e, "platform": PLATFORM}, ensure_ascii=False) for e in events]
    batches = ["\n".join(lines[i:i + BATCH]).encode() for i in range(0, len(lines), BATCH)]
    print(f"{len(lines):,} events of {learners} learners in {len(batches)} batches of {BATCH}, {CLIENTS} clients", flush=True)
    bench_events("sqlite", batches, len(lines))
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            bench_events("postgresql", batches, len(lines))
    except OSError:
        print("events on postgresql: skipped (PostgreSQL not answering on 127.0.0.1:5432)")
    if "--no-upload" not in sys.argv:
        bench_upload(1024)


if __name__ == "__main__":
    main()
