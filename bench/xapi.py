"""Benchmark of the xAPI Statement API (issue #15): statements per second through
`POST /xapi/statements` with full xAPI 1.0.3 validation, against the native `POST /events` path
in the same run on the same data (target: ratio >= 0.5), and the rate of single-statement
`PUT /xapi/statements?statementId=` that a player sending one statement per event produces.

Each side: a fresh SQLite database, `monitor serve` (in-process worker judging as events arrive),
CLIENTS concurrent clients, batches of BATCH; face checks off (the generated captures are names,
not uploaded images) and the ingest rate limit lifted so that it does not bound the figure.

Run: .venv/bin/python bench/xapi.py [LEARNERS] [--puts N]
"""

from __future__ import annotations

import json
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


def _serve(kind: str):  # type: ignore[no-untyped-def]
    url = _fresh_database("sqlite", OUT / "db")
    data_dir = OUT / f"data-{uuid.uuid4().hex[:6]}"
    _, key = _prepare(url, data_dir, "platform")
    server = Server([str(BIN / "monitor"), "serve"], {"MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(data_dir),
                                                      **UNBOUNDED})
    return url, key, server


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    learners = int(args[0]) if args else 300
    puts = int(sys.argv[sys.argv.index("--puts") + 1]) if "--puts" in sys.argv else 2000
    OUT.mkdir(parents=True, exist_ok=True)
    events = [{**e, "platform": PLATFORM} for e in make_day(learners=learners, seed=3)["events"]]
    statements = [as_statement(e) for e in events]
    total = len(events)
    native = ["\n".join(json.dumps(e, ensure_ascii=False) for e in events[i:i + BATCH]).encode()
              for i in range(0, total, BATCH)]
    xapi = [json.dumps(statements[i:i + BATCH], ensure_ascii=False).encode() for i in range(0, total, BATCH)]
    print(f"{total:,} events of {learners} learners, as native events and as xAPI statements, in batches of {BATCH}, "
          f"{CLIENTS} clients", flush=True)

    figures = {}
    for side, bodies in (("native", native), ("xapi", xapi)):
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
            seconds, latencies, stored = _run(bodies, send)
            if stored != total:
                raise SystemExit(f"{side}: {stored} stored of {total}")
            figures[side] = (total / seconds, _p(latencies, 50), _p(latencies, 99))
            if side == "xapi":  # one statement per request, as a player that sends each event at once
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
                figures["put"] = (stored / seconds, _p(latencies, 50), _p(latencies, 99))
        finally:
            server.stop()
            _drop(url)

    for side, label in (("native", "native POST /events          "), ("xapi", "xAPI POST /xapi/statements    ")):
        rate, p50, p99 = figures[side]
        print(f"{label}: {rate:9,.0f} events/s (p50 {p50 * 1000:7.1f} ms, p99 {p99 * 1000:7.1f} ms per batch)", flush=True)
    ratio = figures["xapi"][0] / figures["native"][0]
    print(f"ratio xAPI / native: {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")
    rate, p50, p99 = figures["put"]
    print(f"single-statement PUT         : {rate:9,.0f} statements/s with {CLIENTS} clients "
          f"(p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms); the default ingest limit is 50 requests/s per key")


if __name__ == "__main__":
    main()
