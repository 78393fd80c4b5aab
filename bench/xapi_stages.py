"""Where a statement batch's CPU goes (issue #15): each stage of `POST /xapi/statements` timed
in process, one thread, a fresh SQLite database, the cyclic collector paused as the route pauses
it, against the native path's parse / store / commit on the same day of events. No HTTP: the
figures are the request handling's own, which a shared machine's load changes far less than it
changes bench/xapi.py's wall-clock rates.

Run: .venv/bin/python bench/xapi_stages.py [LEARNERS]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import api.store.statements as xapi_store  # noqa: E402
from api.core.service import Service  # noqa: E402
from api.core.settings import ServiceSettings  # noqa: E402
from api.store.events import in_time, sender, store_events  # noqa: E402
from api.store.keys import create_key, create_organisation  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from monitor.online.reader import parse_records, parse_text  # noqa: E402
from monitor.online.table import gc_paused  # noqa: E402
from sample_videos.online_day import make_day  # noqa: E402
from sample_videos.statements import as_statement  # noqa: E402

BATCH = 1000
SPENT: dict[str, float] = {}


def _timed(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return work(*args, **kwargs)
        finally:
            SPENT[name] = SPENT.get(name, 0.0) + time.process_time() - began
    return run


def _fresh(folder: Path, name: str) -> tuple[Service, Any, Any]:
    url = f"sqlite:///{folder}/{name}.db"
    upgrade(url)
    service = Service.from_settings(ServiceSettings(data_dir=folder / name, database_url=url))
    with service.session() as db:
        org = create_organisation(db, "bench-platform", "platform")
        key = create_key(db, org, "bench")[0]
        return service, org, key


def _report(label: str, count: int) -> None:
    parts = ", ".join(f"{k} {v / count * 1e6:.1f}" for k, v in SPENT.items())
    top = sum(v for k, v in SPENT.items() if "." not in k)
    print(f"{label}: {top / count * 1e6:.1f} us CPU per event ({parts}; 'save.x' is inside 'save')")


def main() -> None:
    learners = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    events = make_day(learners=learners, seed=3)["events"]
    statements = [as_statement(e) for e in events]
    xapi = [json.dumps(statements[i:i + BATCH], ensure_ascii=False).encode() for i in range(0, len(events), BATCH)]
    native = ["\n".join(json.dumps({**e, "platform": "bench-platform"}) for e in events[i:i + BATCH])
              for i in range(0, len(events), BATCH)]
    for name in ("_existing", "_insert_statements", "store_learning_events"):
        setattr(xapi_store, name, _timed("save." + name, getattr(xapi_store, name)))
    folder = Path(tempfile.mkdtemp(prefix="xapi-stages-"))
    try:
        service, org, key = _fresh(folder, "xapi")
        platform, authority = sender(org), xapi_store.authority_of(org.name, key.id, "http://bench/xapi/")
        for raw in xapi:
            with gc_paused():
                data = _timed("decode", msgspec.json.decode)(raw)
                _timed("validate", xapi_store.check_batch)(data, clean=True)
                prepared = _timed("prepare", xapi_store.prepare)(data, authority)
                read = _timed("events_of", parse_records)([p.body for p in prepared], platform[0], platform,
                                                          in_time(service.settings, "timestamp"), clean=True)
            with service.session() as db:
                with gc_paused():
                    _timed("save", xapi_store.save)(db, org.id, key.id, prepared, list(read.events), 0.0)
                _timed("commit", db.commit)()
        _report(f"xAPI   ({len(events):,} statements)", len(events))
        SPENT.clear()
        service, org, _ = _fresh(folder, "native")
        platform = sender(org)
        for text in native:
            read = _timed("parse", parse_text)(text, None, platform, in_time(service.settings))
            with service.session() as db:
                _timed("store", store_events)(db, org.id, list(read.events), 0.0)
                _timed("commit", db.commit)()
        _report(f"native ({len(events):,} events)    ", len(events))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
