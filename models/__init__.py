"""Storage (SQLModel tables, engine, Alembic migrations): built in the service issue (#5)."""
