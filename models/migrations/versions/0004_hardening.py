"""Hardening (issue #19): key expiry, server-side pages sessions, one writer per upload

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.add_column(sa.Column('writer', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('writer_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True))
    # An upload finished before this revision is closed.
    op.execute("UPDATE upload SET closed_at = created_at WHERE recording_id IS NOT NULL")
    op.create_table('page_session',
    sa.Column('id_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['key_id'], ['api_key.id'], ),
    sa.PrimaryKeyConstraint('id_sha256')
    )
    with op.batch_alter_table('page_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_session_key_id'), ['key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('page_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_session_key_id'))
    op.drop_table('page_session')
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('writer_at')
        batch_op.drop_column('writer')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
