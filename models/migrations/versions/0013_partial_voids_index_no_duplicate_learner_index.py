"""Statements' voids index holds only voiding statements (every other statement's row wrote an
index entry of NULL that no query reads: a statement batch's insert, issue #15's bench); events
lose ix_event_learner_id, which ix_event_learner_session (learner_id, session) already answers
(its first column): one index entry less for every event stored.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_VOIDING = sa.text("voids IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_xapi_statement_org_voids', table_name='xapi_statement')
    op.create_index('ix_xapi_statement_org_voids', 'xapi_statement', ['organisation_id', 'voids'], unique=False,
                    sqlite_where=_VOIDING, postgresql_where=_VOIDING)
    op.drop_index('ix_event_learner_id', table_name='event')


def downgrade() -> None:
    op.create_index('ix_event_learner_id', 'event', ['learner_id'], unique=False)
    op.drop_index('ix_xapi_statement_org_voids', table_name='xapi_statement')
    op.create_index('ix_xapi_statement_org_voids', 'xapi_statement', ['organisation_id', 'voids'], unique=False)
