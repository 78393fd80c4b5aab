"""Benchmark of the xAPI Statement API (issue #15): statements per second through
`POST /xapi/statements` with full xAPI 1.0.3 validation, against the native `POST /events` path
in the same run on the same data (target: ratio >= 0.5), and the rate of single-statement
`PUT /xapi/statements?statementId=` that a player sending one statement per event produces.

Each side: a fresh SQLite database, `monitor serve` (in-process worker judging as events arrive),
CLIENTS concurrent clients, batches of BATCH; face checks off (the generated captures are names,
not uploaded images) and the ingest rate limit lifted so that it does not bound the figure.

Both sides run ROUNDS times, alternating which goes first, each on a fresh database; the figure
is the median of the rounds' ratios (one round of a few seconds swung from 0.18 to 0.76 here).

`--database postgresql` runs both sides on the PostgreSQL server (127.0.0.1:5432) instead of the
embedded SQLite default: the service's deployment for a province, whose ratio can differ (README).

Run: .venv/bin/python bench/xapi.py [LEARNERS] [--puts N] [--rounds ROUNDS] [--database sqlite|postgresql]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import OUT, PLATFORM, Server, _drop, _fresh_database, _p, _prepare  # noqa: E402
from sample_videos.online_day import make_day  # noqa: E402
from sample_videos.statements import as_statement  # noqa: E402

BIN = Path(sys.executable).parent
CLIENTS = 4
BATCH = 1000
UNBOUNDED = {"MONITOR_ONLINE_FACE_CHECKS": "false", "MONITOR_INGEST_RATE_LIMIT": "1000000/second"}


def _basic(key: str) -> httpx.BasicAuth:
    """User name = the key's public part `tm_<id>`, password = the secret after it (README)."""
    prefix, key_id, secret = key.split("_", 2)
    return httpx.BasicAuth(f"{prefix}_{key_id}", secret)


def _run(bodies: list[bytes], send) -> tuple[float, list[float], int]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    stored = [0]

    def client(share: list[bytes]) -> None:
        with httpx.Client(timeout=300) as http:
            for body in share:
                began = time.perf_counter()
                count = send(http, body)  # (not `stored[0] += send(…)`: that reads stored[0] before the call)
                latencies.append(time.perf_counter() - began)
                stored[0] += count

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, [bodies[i::CLIENTS] for i in range(CLIENTS)]))
    return time.perf_counter() - began, latencies, stored[0]


DATABASE = "sqlite"  # or "postgresql" (--database): 127.0.0.1:5432, trust auth, as in the tests


def _serve(kind: str):  # type: ignore[no-untyped-def]
    url = _fresh_database(DATABASE, OUT / "db")
    data_dir = OUT / f"data-{uuid.uuid4().hex[:6]}"
    _, key = _prepare(url, data_dir, "platform")
    server = Server([str(BIN / "monitor"), "serve"], {"MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(data_dir),
                                                      **UNBOUNDED})
    return url, key, server


def main() -> None:
    args = [a for n, a in enumerate(sys.argv[1:], 1) if not a.startswith("--") and not sys.argv[n - 1].startswith("--")]
    learners = int(args[0]) if args else 300
    puts = int(sys.argv[sys.argv.index("--puts") + 1]) if "--puts" in sys.argv else 2000
    count = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    global DATABASE
    if "--database" in sys.argv:
        DATABASE = sys.argv[sys.argv.index("--database") + 1]
        if DATABASE not in ("sqlite", "postgresql"):
            raise SystemExit("--database is sqlite or postgresql")
    OUT.mkdir(parents=True, exist_ok=True)
    events = [{**e, "platform": PLATFORM} for e in make_day(learners=learners, seed=3)["events"]]
    statements = [as_statement(e) for e in events]
    total = len(events)
    native = ["\n".join(json.dumps(e, ensure_ascii=False) for e in events[i:i + BATCH]).encode()
              for i in range(0, total, BATCH)]
    xapi = [json.dumps(statements[i:i + BATCH], ensure_ascii=False).encode() for i in range(0, total, BATCH)]
    print(f"{total:,} events of {learners} learners, as native events and as xAPI statements, in batches of {BATCH}, "
          f"{CLIENTS} clients, on {DATABASE}", flush=True)

    rounds: list[dict[str, float]] = []
    put_figures: tuple[float, float, float] | None = None
    for n in range(count):
        # Sides alternate which goes first, each round on fresh databases: a noisy neighbour
        # (the machine is shared) then weighs on both sides alike over the rounds.
        order = (("native", native), ("xapi", xapi)) if n % 2 == 0 else (("xapi", xapi), ("native", native))
        figures: dict[str, float] = {}
        for side, bodies in order:
            rate, p50, p99, cpu_us = _side(side, bodies, total)
            figures[side], figures[side + " cpu"] = rate, cpu_us
            print(f"round {n + 1} {LABELS[side]}: {rate:9,.0f} events/s (p50 {p50 * 1000:7.1f} ms, "
                  f"p99 {p99 * 1000:7.1f} ms per batch), server CPU {cpu_us:5.1f} us/event", flush=True)
        print(f"round {n + 1} ratio xAPI / native: {figures['xapi'] / figures['native']:.2f} events/s, "
              f"{figures['native cpu'] / figures['xapi cpu']:.2f} by server CPU", flush=True)
        rounds.append(figures)
        if put_figures is None and puts:
            put_figures = _puts(puts)
    native_rate = statistics.median(r["native"] for r in rounds)
    xapi_rate = statistics.median(r["xapi"] for r in rounds)
    ratios = [r["xapi"] / r["native"] for r in rounds]
    ratio = statistics.median(ratios)
    print(f"median of {count} rounds: native {native_rate:,.0f} events/s, xAPI {xapi_rate:,.0f} events/s; "
          f"ratio xAPI / native {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}; "
          f"rounds {', '.join(f'{r:.2f}' for r in ratios)})")
    cpu_ratio = statistics.median(r["native cpu"] / r["xapi cpu"] for r in rounds)
    print(f"median server CPU per event: native {statistics.median(r['native cpu'] for r in rounds):.1f} us, "
          f"xAPI {statistics.median(r['xapi cpu'] for r in rounds):.1f} us; ratio (events per CPU second) {cpu_ratio:.2f}")
    if put_figures is None:
        return
    rate, p50, p99 = put_figures
    print(f"single-statement PUT         : {rate:9,.0f} statements/s with {CLIENTS} clients "
          f"(p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms); the default ingest limit is 50 requests/s per key")


LABELS = {"native": "native POST /events        ", "xapi": "xAPI POST /xapi/statements "}
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (/proc/PID/stat fields 14, 15): the request
    handling's own cost, which a neighbour's load changes far less than it changes wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _side(side: str, bodies: list[bytes], total: int) -> tuple[float, float, float, float]:
    """One side on a fresh database and server: events/s, p50 and p99 seconds per batch, and the
    server process's CPU microseconds per event (the judging runs in its worker's own processes,
    not counted)."""
    url, key, server = _serve(side)
    try:
        if side == "native":
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}

            def send(http: httpx.Client, body: bytes, url: str = server.url, headers: dict = headers) -> int:
                r = http.post(url + "/events", content=body, headers=headers)
                r.raise_for_status()
                return int(r.json()["accepted"])
        else:
            auth = _basic(key)

            def send(http: httpx.Client, body: bytes, url: str = server.url, auth: httpx.BasicAuth = auth) -> int:
                r = http.post(url + "/xapi/statements", content=body, auth=auth,
                              headers={"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
                r.raise_for_status()
                return len(r.json())
        cpu = _cpu_s(server.process.pid)
        seconds, latencies, stored = _run(bodies, send)
        cpu = _cpu_s(server.process.pid) - cpu
        if stored != total:
            raise SystemExit(f"{side}: {stored} stored of {total}")
        return total / seconds, _p(latencies, 50), _p(latencies, 99), cpu / total * 1e6
    finally:
        server.stop()
        _drop(url)


def _puts(puts: int) -> tuple[float, float, float]:
    """One statement per request, as a player that sends each event at once."""
    url, key, server = _serve("xapi")
    try:
        more = [as_statement({**e, "id": f"put-{e['id']}", "session": f"put-{e['session']}"})
                for e in make_day(learners=max(1, puts // 150), seed=4)["events"][:puts]]
        auth = _basic(key)
        headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}

        def put(http: httpx.Client, body: bytes, url: str = server.url) -> int:
            statement = json.loads(body)
            r = http.put(url + "/xapi/statements", params={"statementId": statement["id"]}, content=body,
                         auth=auth, headers=headers)
            if r.status_code != 204:
                raise SystemExit(f"PUT answered {r.status_code}: {r.text[:300]}")
            return 1
        seconds, latencies, stored = _run([json.dumps(s, ensure_ascii=False).encode() for s in more], put)
        return stored / seconds, _p(latencies, 50), _p(latencies, 99)
    finally:
        server.stop()
        _drop(url)


if __name__ == "__main__":
    main()
