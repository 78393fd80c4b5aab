"""The ceiling of bench/ingest.py: a bare FastAPI endpoint that inserts the same event rows into
the same table, without validation, deduplication, audit or rules; and a bare upload endpoint
that streams the body to a file, without hashing or probing. Not part of the product."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from fastapi import FastAPI, Request

from models.db import make_engine
from models.tables import Event

engine = make_engine(os.environ["MONITOR_DATABASE_URL"])
ORG = os.environ["BENCH_ORG"]
UPLOADS = Path(os.environ["BENCH_UPLOADS"])
app = FastAPI()


@app.post("/events")
async def events(request: Request) -> dict[str, int]:
    now = datetime.now(timezone.utc)
    rows = []
    for line in (await request.body()).splitlines():
        e = json.loads(line)
        rows.append({"organisation_id": ORG, "event_id": e["id"], "learner": e["learner"], "session": e["session"],
                     "course": e["course"], "unit": e.get("unit"), "type": e["type"],
                     "at": datetime.fromisoformat(e["at"]), "body": line.decode(), "received_at": now})
    with engine.begin() as connection:
        connection.execute(Event.__table__.insert(), rows)  # type: ignore[attr-defined]
    return {"accepted": len(rows)}


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    size = 0
    with open(UPLOADS / "ceiling.bin", "wb") as handle:
        async for chunk in request.stream():
            handle.write(chunk)
            size += len(chunk)
    return {"size": size}
