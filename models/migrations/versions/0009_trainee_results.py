"""Class trainees' person findings stored with the class's judging (issue #17): the row a flag of
kind `trainee` shows

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _text(n: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    op.create_table('trainee_result',
    sa.Column('id', _text(32), nullable=False),
    sa.Column('class_id', _text(32), nullable=False),
    sa.Column('trainee_id', _text(200), nullable=False),
    sa.Column('organisation_id', _text(32), nullable=False),
    sa.Column('verdict', _text(20), nullable=False),
    sa.Column('start', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('policy', _text(100), nullable=False),
    sa.Column('judged_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('class_id', 'trainee_id')
    )
    with op.batch_alter_table('trainee_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainee_result_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trainee_result_organisation_id'), ['organisation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trainee_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainee_result_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_trainee_result_class_id'))
    op.drop_table('trainee_result')
