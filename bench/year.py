"""A year of a province (issue #20): does judging cost the same on day 300 as on day 1, and does
the replay check stay fast with a million stored face hashes?

Generated here, never committed: one platform, `--measured` learners who each learned `--hours`
one-hour sessions over the year before day 300 (their history: the bulk of the events), and
`--others` learners with one session each. Measured in one run, on SQLite or PostgreSQL
(`--db postgresql` uses MONITOR_TEST_POSTGRES's server, a database of its own, dropped after):

1. a judging round for the measured learners with one new session each, on day 1 (new learners,
   nothing before) and on day 300 (their history stored and judged): the round reads the new
   sessions and each subject's summary (incremental judging); and the same day-300 round judged
   from scratch, the way every round was judged before (the baseline);
2. the replay lookup (api/store/replay.py) against `--hashes` stored face hashes: p50/p95 of the
   index and of a full scan of the same rows, over `--queries` captures;
3. ingest with judging keeping up: batches of new sessions sent for `--ingest-s` seconds while a
   judging worker (a thread here) judges what came; events/s stored and the judging lag (from a
   batch stored to its sessions judged).

Face checks are off in the rounds (no images: the replay index is measured on its own in 2).

    python -m bench.year                         # the issue's scale (long; see --help)
    python -m bench.year --measured 200 --hours 20 --others 2000 --hashes 200000 --ingest-s 60
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import imagehash
from sqlalchemy import create_engine, text
from sqlmodel import select

import api.jobs.judging as judging
from api.core.service import Service
from api.core.settings import ServiceSettings
from api.store.events import mark_dirty, store_events
from api.store.keys import create_organisation
from api.store.replay import StoredReplay, hash_columns
from models.migrate import upgrade
from models.tables import Course, FaceHash, Job, Learner, LearnerSession
from monitor.online.events import TYPE_ORDER, LearningEvent

DAY0 = datetime(2026, 1, 5, 8, tzinfo=timezone(timedelta(hours=8)))
UNITS = [str(n) for n in range(1, 61)]


def session(learner: str, name: str, start: datetime, unit: str, position: float, minutes: int = 60) -> list[LearningEvent]:
    """A clean hour: play, a heartbeat every 30 s, a pop-up answered every 15 minutes, a photo."""
    out: list[LearningEvent] = []

    def add(kind: str, at_s: float, **fields: Any) -> None:
        out.append(LearningEvent(f"{name}-{len(out)}", kind, start + timedelta(seconds=at_s), learner, name, "P", "C1",
                                 unit, **fields))

    add("session_start", 0)
    add("play", 1, position_s=position)
    for k in range(1, minutes * 2):
        add("heartbeat", 1 + 30 * k, position_s=position + 30 * k)
        if k % 30 == 0:
            add("popup_shown", 2 + 30 * k, popup=f"{name}-p{k}")
            add("popup_answered", 10 + 30 * k, popup=f"{name}-p{k}")
        if k == 20:
            add("photo_kept", 3 + 30 * k, image=f"{name}.jpg")
    end = 60.0 * minutes
    add("pause", end, position_s=position + end - 1)
    add("session_end", end + 1)
    return out


def _round(service: Service) -> float:
    """The queued judging job, run here; its wall time."""
    with service.session() as db:
        job = db.exec(select(Job).where(Job.kind == "judge_learners", Job.status == "queued")).first()
        if job is None:
            return 0.0
        job.status, job.worker = "running", "bench"
        db.add(job)
        db.commit()
        db.refresh(job)
    t = time.perf_counter()
    judging.run_judging(service, job, lambda *_: None)
    return time.perf_counter() - t


def _store(service: Service, org: str, events: list[LearningEvent], chunk: int = 5000) -> float:
    t = time.perf_counter()
    for start in range(0, len(events), chunk):
        with service.session() as db:
            store_events(db, org, events[start:start + chunk])
            db.commit()
    return time.perf_counter() - t


def _pieces(items: Iterator[LearningEvent], size: int) -> Iterator[list[LearningEvent]]:
    """Lists of `size` items (itertools.batched, from Python 3.12)."""
    piece: list[LearningEvent] = []
    for item in items:
        piece.append(item)
        if len(piece) == size:
            yield piece
            piece = []
    if piece:
        yield piece


def _day(day: int, hour: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour)


class _Figures(dict):  # type: ignore[type-arg]
    """Printed as they are measured (a long run shows where it is)."""

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}", flush=True)


def judging_rounds(service: Service, org: str, args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = _Figures()
    measured = [f"M{n:05d}" for n in range(args.measured)]
    # Day 1: new learners, one session each.
    fresh = [f"N{n:05d}" for n in range(args.measured)]
    events = [e for who in fresh for e in session(who, f"{who}-d1", _day(1), "1", 0.0)]
    _store(service, org, events)
    out["day1_events"] = len(events)
    del events
    gc.collect()
    out["day1_round_s"] = _round(service)
    # The year before day 300: the measured learners' history, and the others' single sessions,
    # made and stored a piece at a time: millions of events held here would make every garbage
    # collection of the rounds measured after walk them (measured: day 300 slowed 2-3x by that).
    def year() -> Iterator[LearningEvent]:
        for n, who in enumerate(measured):
            rng = random.Random(n)
            days = sorted(rng.sample(range(2, 299), args.hours))
            for k, d in enumerate(days):
                yield from session(who, f"{who}-h{k}", _day(d, rng.randint(0, 10)), UNITS[k % len(UNITS)], 0.0)
        for n in range(args.others):
            yield from session(f"O{n:06d}", f"O{n:06d}-s", _day(1 + n % 298), "1", 0.0, 30)

    t = time.perf_counter()
    count = 0
    for piece in _pieces(year(), 50_000):
        _store(service, org, list(piece))
        count += len(piece)
    out["history_store_s"] = time.perf_counter() - t
    out["history_events"] = count
    gc.collect()
    out["history_judge_s"] = _round(service)  # the year judged once (from scratch: new subjects)
    # Day 300: one new session each for the measured learners.
    today = [e for k, who in enumerate(measured) for e in session(who, f"{who}-d300", _day(300), UNITS[args.hours % len(UNITS)], 0.0)]
    _store(service, org, today)
    out["day300_events"] = len(today)
    del today
    gc.collect()
    out["day300_round_s"] = _round(service)
    if args.no_scratch:
        return out
    # The same round judged from scratch (every event of the subject: what each round cost before).
    with service.session() as db:
        subjects = [r.subject for r in db.exec(select(Learner).where(Learner.learner_ref.in_(measured))).all()]  # type: ignore[attr-defined]
        mark_dirty(db, subjects)
        db.commit()
    out["day300_from_scratch_s"] = _round(service)
    return out


def replay_lookups(service: Service, org: str, args: argparse.Namespace) -> dict[str, float]:
    """`--hashes` random capture hashes in the index (and a few near copies of the queries)."""
    rng = random.Random(7)
    with service.session() as db:
        learner = db.exec(select(Learner)).first()
        if learner is None:  # the judging part was not run: a learner of its own
            learner = Learner(organisation_id=org, learner_ref="R1")
            db.add(learner)
            db.commit()
            db.refresh(learner)
        learner_id = learner.id
    t = time.perf_counter()
    table = FaceHash.__table__  # type: ignore[attr-defined]
    now = datetime.now(timezone.utc)
    rows = []
    queries = [rng.getrandbits(64) for _ in range(args.queries)]
    for n in range(args.hashes):
        value = rng.getrandbits(64) if n >= len(queries) else queries[n] ^ (1 << rng.randrange(64))  # some copies
        rows.append({"kind": "capture", "ref": f"{org}:bench-{n}", "organisation_id": org, "learner_id": learner_id,
                     "session": f"{learner_id}:bench", "image": f"captures/b{n}", "source": f"b{n}", "at_s": 1.0e9 + n,
                     "rank": TYPE_ORDER["face_capture"], "nonce": None, "face_px": 120, "second_px": 0,
                     "created_at": now, **hash_columns(value)})
        if len(rows) == 20000:
            with service.session() as db:
                db.connection().execute(table.insert(), rows)
                db.commit()
            rows = []
    if rows:
        with service.session() as db:
            db.connection().execute(table.insert(), rows)
            db.commit()
    if service.engine.dialect.name == "postgresql":
        # What autovacuum does to an insert-only table (PostgreSQL 13+; it is off on this machine's
        # server): the visibility map set, so the block indexes answer alone (index-only scans);
        # right after a bulk load they cannot (measured: 19.5 ms p50 before, 6.5 ms after).
        with service.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE face_hash"))
    out: dict[str, float] = {"hashes_store_s": time.perf_counter() - t}
    late = LearningEvent("late", "face_capture", datetime(2099, 1, 1, tzinfo=timezone.utc), "l", "s", "p", "c", image="q")
    found = 0
    for scan, name, count in ((False, "index", len(queries)), (True, "scan", max(5, len(queries) // 20))):
        times = []
        with service.session() as db:
            lookup = StoredReplay(db, 60, scan=scan)
            for q in queries[:count]:
                t = time.perf_counter()
                hit = lookup.nearest_before(imagehash.hex_to_hash(f"{q:016x}"), late, 8)
                times.append(time.perf_counter() - t)
                found += hit is not None
        times.sort()
        out[f"{name}_p50_ms"] = 1000 * times[len(times) // 2]
        out[f"{name}_p95_ms"] = 1000 * times[min(len(times) - 1, int(len(times) * 0.95))]
    out["scan_over_index_p95"] = out["scan_p95_ms"] / out["index_p95_ms"]
    return out


def _judging_worker(settings: dict[str, Any], rounds: Any, stop: Any) -> None:
    """The judging worker of the ingest measurement, a process of its own as the service's is (the
    in-process worker's child, or a Celery worker): it runs each queued judging job and reports
    each round's (start, end) wall times."""
    service = Service.from_settings(ServiceSettings(**settings))
    while not stop.is_set():
        start = time.time()
        if _round(service) == 0.0:
            time.sleep(0.05)
            continue
        rounds.put((start, time.time()))
    service.engine.dispose()


def ingest_with_judging(service: Service, org: str, args: argparse.Namespace) -> dict[str, float]:
    """Batches of new sessions (50 learners' 10-minute pieces, as a platform sends them) for
    `--ingest-s` seconds, at `--ingest-rate` events/s (0: as fast as this process stores them),
    while a judging worker process drains the queue. A batch's lag: from its storing to the end of
    the writing of its sessions' judged rows."""
    context = multiprocessing.get_context("spawn")
    rounds, stop = context.Queue(), context.Event()
    worker = context.Process(target=_judging_worker, args=(service.settings.model_dump(), rounds, stop), daemon=True)
    worker.start()
    stored_at: list[float] = []
    sent = 0
    n = 0
    t0 = time.monotonic()
    stop_at = t0 + args.ingest_s
    while time.monotonic() < stop_at:
        who = [f"I{(n * 50 + k) % max(1, args.measured):05d}" for k in range(50)]
        day = 301 + n // 24
        batch = [e for k, w in enumerate(who) for e in session(w, f"{w}-i{n}", _day(day, n % 24), "1", 0.0, 10)]
        _store(service, org, batch)
        stored_at.append(time.time())
        sent += len(batch)
        n += 1
        if args.ingest_rate > 0:  # paced: the next batch when the rate allows
            time.sleep(max(0.0, t0 + sent / args.ingest_rate - time.monotonic()))
    elapsed = time.monotonic() - t0
    # A judging job goes on while new learners keep coming (run_judging takes batches until none
    # is left), so a batch's lag is read off its sessions' rows: when they were written.
    judged: dict[int, datetime] = {}
    deadline = time.monotonic() + max(600.0, args.ingest_s)
    while time.monotonic() < deadline and len(judged) < n:
        time.sleep(1.0)
        with service.session() as db:
            rows = db.exec(select(LearnerSession.session, LearnerSession.updated_at).where(
                LearnerSession.session.like("I%-i%"))).all()  # type: ignore[attr-defined]
        counts: dict[int, int] = {}
        latest: dict[int, datetime] = {}
        for name, updated in rows:
            k = int(name.rsplit("-i", 1)[1])
            counts[k] = counts.get(k, 0) + 1
            latest[k] = max(latest.get(k, updated), updated)
        judged = {k: latest[k] for k, c in counts.items() if c == 50}
    stop.set()
    worker.join(60)
    jobs = 0
    while not rounds.empty():
        rounds.get()
        jobs += 1
    lags = sorted((judged[k].timestamp() - at) if k in judged else float("inf") for k, at in enumerate(stored_at))
    return {"ingest_events_per_s": sent / elapsed, "ingest_s": elapsed, "judging_jobs": float(jobs),
            "lag_p50_s": lags[len(lags) // 2] if lags else 0.0,
            "lag_p95_s": lags[min(len(lags) - 1, int(len(lags) * 0.95))] if lags else 0.0,
            "lag_max_s": lags[-1] if lags else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--measured", type=int, default=1000, help="learners judged on day 1 and day 300")
    parser.add_argument("--hours", type=int, default=40, help="hour-long sessions each measured learner has before day 300")
    parser.add_argument("--others", type=int, default=19000, help="learners with one half-hour session")
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--ingest-s", type=float, default=600.0)
    parser.add_argument("--ingest-rate", type=float, default=0.0, help="events/s sent in the ingest part (0: as fast as stored)")
    parser.add_argument("--no-scratch", action="store_true", help="leave out the day-300 round judged from scratch (the baseline)")
    parser.add_argument("--parts", default="judging,replay,ingest",
                        help="which measurements, comma-separated (judging, replay, ingest): iterate on one alone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-year-"))
    pg_admin, pg_name = None, None
    if args.db == "sqlite":
        url = f"sqlite:///{folder / 'monitor.db'}"
    else:
        base = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        pg_name = f"bench_year_{uuid.uuid4().hex[:8]}"
        pg_admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = base.rsplit("/", 1)[0] + f"/{pg_name}"
    try:
        upgrade(url)
        service = Service.from_settings(ServiceSettings(data_dir=folder / "data", database_url=url, cache_dir=folder / "cache",
                                                        online_face_checks=False, judge_delay_s=0))
        with service.session() as db:
            org = create_organisation(db, "year.example", "platform", by="bench").id
            db.add(Course(organisation_id=org, course_ref="C1", body={"units": UNITS, "mode": "online"}))
            db.commit()
        print(f"database: {args.db}; measured learners {args.measured} x {args.hours} h of history, "
              f"{args.others} others, {args.hashes} hashes", flush=True)
        parts = set(args.parts.split(","))
        if "judging" in parts:
            figures = judging_rounds(service, org, args)
            figures["day300_over_day1"] = figures["day300_round_s"] / figures["day1_round_s"]
            if not args.no_scratch:
                figures["scratch_over_incremental_day300"] = figures["day300_from_scratch_s"] / figures["day300_round_s"]
        if "replay" in parts:
            for k, v in replay_lookups(service, org, args).items():
                print(f"  {k}: {v:.3f}", flush=True)
        if "ingest" in parts and args.ingest_s > 0:
            for k, v in ingest_with_judging(service, org, args).items():
                print(f"  {k}: {v:.3f}", flush=True)
        service.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the generated year (gigabytes at full scale)
        if pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            pg_admin.dispose()


if __name__ == "__main__":
    main()
