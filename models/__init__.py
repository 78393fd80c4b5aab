"""Storage: SQLModel tables, the engine factory and the Alembic migrations that make the schema.

Imports nothing from `api` or `monitor`: reports and findings are stored as the JSON the
analysis core produced, plus the few columns the queue filters and sorts on.
"""

from models import statements as statements  # noqa: E402,F401  (registers the xAPI tables on SQLModel.metadata)
