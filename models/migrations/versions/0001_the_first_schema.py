"""the first schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 09:13:18.185517
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)

    op.create_table('dirty_learner',
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('since', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('learner')
    )
    with op.batch_alter_table('dirty_learner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dirty_learner_job_id'), ['job_id'], unique=False)

    op.create_table('organisation',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('api_key',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('secret_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('assessed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'learner', 'course')
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_learner'), ['learner'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('capture',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capture_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prompt', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nonce')
    )
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('course_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'course_ref')
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'event_id')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_course'), ['course'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_learner'), ['learner'], unique=False)

    op.create_table('flag',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('subject_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('subject_start', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('raised_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject_kind', 'subject_key')
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_flag_queue', ['cleared_at', 'raised_at'], unique=False)

    op.create_table('job',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('lease_until', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('run_after', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_status'), ['status'], unique=False)

    op.create_table('learner_photo',
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('learner')
    )
    with op.batch_alter_table('learner_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_photo_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('learner_session',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('credited_s', sa.Float(), nullable=False),
    sa.Column('start', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('learner', 'platform', 'session')
    )
    with op.batch_alter_table('learner_session', schema=None) as batch_op:
        batch_op.create_index('ix_learner_session_org_learner', ['organisation_id', 'learner'], unique=False)

    op.create_table('training_class',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'class_ref')
    )
    with op.batch_alter_table('training_class', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_class_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('class_report',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id')
    )
    with op.batch_alter_table('class_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_report_class_id'), ['class_id'], unique=False)

    op.create_table('decision',
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], ),
    sa.ForeignKeyConstraint(['key_id'], ['api_key.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_flag_id'), ['flag_id'], unique=False)

    op.create_table('recording',
    sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('declared_start', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('codec', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('roster_photo',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('trainee_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('class_id', 'trainee_id')
    )
    with op.batch_alter_table('roster_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_photo_class_id'), ['class_id'], unique=False)

    op.create_table('upload',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('declared_start', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_bytes', sa.Integer(), nullable=False),
    sa.Column('recording_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_upload_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hour_result',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('start', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('headcount_mean', sa.Float(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['class_report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hour_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hour_result_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hour_result_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hour_result_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hour_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hour_result_report_id'))
        batch_op.drop_index(batch_op.f('ix_hour_result_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_hour_result_class_id'))

    op.drop_table('hour_result')
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_upload_class_id'))

    op.drop_table('upload')
    with op.batch_alter_table('roster_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_photo_class_id'))

    op.drop_table('roster_photo')
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_recording_class_id'))

    op.drop_table('recording')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_flag_id'))

    op.drop_table('decision')
    with op.batch_alter_table('class_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_report_class_id'))

    op.drop_table('class_report')
    with op.batch_alter_table('training_class', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_class_organisation_id'))

    op.drop_table('training_class')
    with op.batch_alter_table('learner_session', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_session_org_learner')

    op.drop_table('learner_session')
    with op.batch_alter_table('learner_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_photo_organisation_id'))

    op.drop_table('learner_photo')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_status'))
        batch_op.drop_index(batch_op.f('ix_job_organisation_id'))

    op.drop_table('job')
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_queue')
        batch_op.drop_index(batch_op.f('ix_flag_organisation_id'))

    op.drop_table('flag')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_learner'))
        batch_op.drop_index(batch_op.f('ix_event_course'))

    op.drop_table('event')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_organisation_id'))

    op.drop_table('course')
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_organisation_id'))

    op.drop_table('challenge')
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capture_organisation_id'))

    op.drop_table('capture')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_learner'))

    op.drop_table('assessment')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_organisation_id'))

    op.drop_table('api_key')
    op.drop_table('organisation')
    with op.batch_alter_table('dirty_learner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dirty_learner_job_id'))

    op.drop_table('dirty_learner')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
