"""The schema is made only by the Alembic migrations: they upgrade an empty database, match the
tables the code declares, and downgrade cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.db import normalise_url
from models.migrate import downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_make_the_declared_schema_and_undo_it(db_url: str) -> None:
    # db_url comes migrated to head.
    assert _tables(db_url) == set(SQLModel.metadata.tables)
    downgrade(db_url, "base")
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) == set(SQLModel.metadata.tables)


def test_the_models_and_the_migrations_agree(db_url: str) -> None:
    """Autogenerate finds nothing to add: no model change without its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrading_a_database_of_the_previous_head_carries_its_data_over(db_url: str) -> None:
    """0001 -> 0002 (authority and ownership): learners are made per platform from the events,
    photos and sessions already there; photos become version 1; every learner is judged again."""
    from sqlalchemy import text

    downgrade(db_url, "0001")
    engine = create_engine(normalise_url(db_url))
    now = "2026-11-20 08:00:00"
    try:
        with engine.begin() as c:
            for org, kind in (("p1", "platform"), ("p2", "platform"), ("ad", "admin")):
                c.execute(text("INSERT INTO organisation (id, name, kind, created_at) VALUES (:i, :n, :k, :t)"),
                          {"i": org, "n": f"org {org}", "k": kind, "t": now})
            for n, (org, learner) in enumerate((("p1", "L1"), ("p1", "L1"), ("p2", "L1"), ("p2", "L2"))):
                c.execute(text("INSERT INTO event (organisation_id, event_id, learner, session, course, type, at, body, received_at) "
                               "VALUES (:o, :e, :l, 'S1', 'C1', 'play', :t, '{}', :t)"),
                          {"o": org, "e": f"e{n}", "l": learner, "t": now})
            c.execute(text("INSERT INTO learner_photo (learner, organisation_id, stored_name, sha256, created_at) "
                           "VALUES ('L1', 'p1', 'learner-photos/x', 'abc', :t)"), {"t": now})
            c.execute(text("INSERT INTO learner_session (id, organisation_id, learner, platform, session, course, verdict, "
                           "credited_s, start, \"end\", events, findings, updated_at) VALUES ('s1', 'p2', 'L2', 'org p2', 'S1', "
                           "'C1', 'valid', 1.0, :t, :t, 1, '[]', :t)"), {"t": now})
        upgrade(db_url)
        with engine.connect() as c:
            learners = {(o, r): i for i, o, r in c.execute(text("SELECT id, organisation_id, learner_ref FROM learner"))}
            assert set(learners) == {("p1", "L1"), ("p2", "L1"), ("p2", "L2")}  # L1 of p1 and of p2 are two learners
            events = set(c.execute(text("SELECT event_id, learner_id FROM event")))
            assert events == {("e0", learners[("p1", "L1")]), ("e1", learners[("p1", "L1")]),
                              ("e2", learners[("p2", "L1")]), ("e3", learners[("p2", "L2")])}
            photos = list(c.execute(text("SELECT learner_id, version, stored_name FROM learner_photo_version")))
            assert photos == [(learners[("p1", "L1")], 1, "learner-photos/x")]
            assert list(c.execute(text("SELECT learner_id FROM learner_session"))) == [(learners[("p2", "L2")],)]
            dirty = {d for (d,) in c.execute(text("SELECT learner FROM dirty_learner"))}
            assert dirty == {f"l:{i}" for i in learners.values()}
            assert list(c.execute(text("SELECT kind, status FROM job"))) == [("judge_learners", "queued")]
            assert dict(list(c.execute(text("SELECT id, jurisdiction FROM organisation")))) == {"p1": "zhengzhou", "p2": "zhengzhou", "ad": None}
    finally:
        engine.dispose()


def test_0013_keeps_statements_and_finds_earlier_voidings_by_the_partial_index(db_url: str) -> None:
    """A database of the previous head (0012) upgraded: its statements stay, a voiding stored
    before is still found for the statement it voids, through the index of voiding statements
    only, and events are still found by learner without their own learner index."""
    from sqlalchemy import text
    from sqlmodel import Session

    from api.store.statements import _voided_earlier

    downgrade(db_url, "0012")
    engine = create_engine(normalise_url(db_url))
    now = "2026-11-20 08:00:00"
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO organisation (id, name, kind, created_at, jurisdiction) "
                           "VALUES ('p1', 'org p1', 'platform', :t, 'zhengzhou')"), {"t": now})
            for n, voids in enumerate((None, None, "aaaaaaaa-0000-0000-0000-000000000001")):
                c.execute(text("INSERT INTO xapi_statement (organisation_id, statement_id, verb_id, body, content_sha256, "
                               "stored, key_id, voided, voids) VALUES ('p1', :s, 'http://v', '{}', 'x', :t, 'k', :f, :v)"),
                          {"s": f"bbbbbbbb-0000-0000-0000-00000000000{n}", "t": now, "f": False, "v": voids})
        upgrade(db_url)
        with Session(engine) as db:
            assert db.exec(text("SELECT count(*) FROM xapi_statement")).one()[0] == 3  # type: ignore[call-overload]
            found = _voided_earlier(db, "p1", ["aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000000"])
            assert found == {"aaaaaaaa-0000-0000-0000-000000000001"}
            assert _voided_earlier(db, "p2", ["aaaaaaaa-0000-0000-0000-000000000001"]) == set()  # another platform's
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(r) for r in db.exec(text(  # type: ignore[call-overload]
                    "EXPLAIN QUERY PLAN SELECT voids FROM xapi_statement WHERE organisation_id = 'p1' AND voids IN ('a', 'b')")))
                assert "ix_xapi_statement_org_voids" in plan, plan
                plan = " ".join(str(r) for r in db.exec(text(  # type: ignore[call-overload]
                    "EXPLAIN QUERY PLAN SELECT body FROM event WHERE learner_id IN ('a', 'b')")))
                assert "ix_event_learner_session" in plan, plan
            definition = db.exec(text(  # type: ignore[call-overload]
                "SELECT sql FROM sqlite_master WHERE name = 'ix_xapi_statement_org_voids'" if engine.dialect.name == "sqlite"
                else "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_xapi_statement_org_voids'")).one()[0]
            assert "voids IS NOT NULL" in definition, definition  # only voiding statements in it
            indexes = {i["name"] for i in inspect(engine).get_indexes("event")}
            assert "ix_event_learner_id" not in indexes and "ix_event_learner_session" in indexes
    finally:
        engine.dispose()
