"""Statements found by what they void in an index (a batch asks which of its ids an earlier
statement voided: without it every POST /xapi/statements read the whole table, issue #15's
bench); recordings' and uploads' byte counts 64-bit (the service accepts recordings up to 8 GiB,
past a 32-bit integer on PostgreSQL).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_statement_org_voids', ['organisation_id', 'voids'], unique=False)
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.alter_column('size_bytes', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.alter_column('received_bytes', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.alter_column('received_bytes', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.alter_column('size_bytes', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_statement_org_voids')
