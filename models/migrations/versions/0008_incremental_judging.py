"""Incremental judging (issue #20): the sessions that got events (dirty_session), what each judged
session hands on (session_state) and each subject's summary (subject_state), the units of each
course kept as events come (course_unit, filled from the events stored before), and an index of
events by learner and session. Subjects marked before are judged from scratch (`full`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('course_unit',
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('organisation_id', 'course', 'unit')
    )
    op.create_table('dirty_session',
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('learner_id', 'session')
    )
    with op.batch_alter_table('dirty_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dirty_session_job_id'), ['job_id'], unique=False)

    op.create_table('session_state',
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('start_s', sa.Float(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('contribution', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('learner_id', 'session')
    )
    with op.batch_alter_table('session_state', schema=None) as batch_op:
        batch_op.create_index('ix_session_state_subject_end', ['subject', 'end_s'], unique=False)
        batch_op.create_index('ix_session_state_subject_start', ['subject', 'start_s'], unique=False)

    op.create_table('subject_state',
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cut_s', sa.Float(), nullable=False),
    sa.Column('carried', sa.JSON(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )
    with op.batch_alter_table('dirty_learner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_learner_session', ['learner_id', 'session'], unique=False)

    op.execute("INSERT INTO course_unit (organisation_id, course, unit) "
               "SELECT DISTINCT organisation_id, course, unit FROM event WHERE unit IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_learner_session')

    with op.batch_alter_table('dirty_learner', schema=None) as batch_op:
        batch_op.drop_column('full')

    op.drop_table('subject_state')
    with op.batch_alter_table('session_state', schema=None) as batch_op:
        batch_op.drop_index('ix_session_state_subject_start')
        batch_op.drop_index('ix_session_state_subject_end')

    op.drop_table('session_state')
    with op.batch_alter_table('dirty_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dirty_session_job_id'))

    op.drop_table('dirty_session')
    op.drop_table('course_unit')
