"""Decisions per finding, with a reason code, and undo as an appended withdrawal (issue #18)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finding', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('withdraws', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('withdraws')
        batch_op.drop_column('reason')
        batch_op.drop_column('finding')
