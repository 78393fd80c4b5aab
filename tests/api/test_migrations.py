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
