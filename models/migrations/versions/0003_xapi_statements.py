"""xAPI statements, their attachments and the origins allowed to send them (issue #15)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xapi_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('statement_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('verb_id', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('stored', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('voids', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'statement_id')
    )
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xapi_statement_stored'), ['stored'], unique=False)

    op.create_table('xapi_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sha2', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'sha2')
    )

    op.create_table('xapi_origin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'origin')
    )
    with op.batch_alter_table('xapi_origin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xapi_origin_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_origin_origin'), ['origin'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('xapi_origin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xapi_origin_origin'))
        batch_op.drop_index(batch_op.f('ix_xapi_origin_organisation_id'))
    op.drop_table('xapi_origin')
    op.drop_table('xapi_attachment')
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xapi_statement_stored'))
    op.drop_table('xapi_statement')
