"""Class periods (issue #17): trainees' persons, class assessments, authorities' acceptances of
late registrations, inspectors' on-site checks, trainees' absences and make-up lessons

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _text(n: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    op.create_table('class_trainee',
    sa.Column('class_id', _text(32), nullable=False),
    sa.Column('trainee_id', _text(200), nullable=False),
    sa.Column('person_hash', _text(64), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.PrimaryKeyConstraint('class_id', 'trainee_id')
    )
    with op.batch_alter_table('class_trainee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_trainee_person_hash'), ['person_hash'], unique=False)
    op.create_table('class_assessment',
    sa.Column('class_id', _text(32), nullable=False),
    sa.Column('assessed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', _text(32), nullable=False),
    sa.Column('person', _text(200), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.PrimaryKeyConstraint('class_id')
    )
    op.create_table('late_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', _text(32), nullable=False),
    sa.Column('class_ref', _text(200), nullable=False),
    sa.Column('reason', _text(2000), nullable=False),
    sa.Column('key_id', _text(32), nullable=False),
    sa.Column('person', _text(200), nullable=False),
    sa.Column('authority_id', _text(32), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'class_ref')
    )
    with op.batch_alter_table('late_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_late_registration_organisation_id'), ['organisation_id'], unique=False)
    op.create_table('onsite_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', _text(32), nullable=False),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('absent', sa.JSON(), nullable=False),
    sa.Column('note', _text(2000), nullable=False),
    sa.Column('key_id', _text(32), nullable=False),
    sa.Column('person', _text(200), nullable=False),
    sa.Column('organisation_id', _text(32), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('onsite_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onsite_check_class_id'), ['class_id'], unique=False)
    op.create_table('trainee_absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', _text(32), nullable=False),
    sa.Column('trainee_id', _text(200), nullable=False),
    sa.Column('hour_index', sa.Integer(), nullable=False),
    sa.Column('makeup_hour_index', sa.Integer(), nullable=True),
    sa.Column('reason', _text(2000), nullable=False),
    sa.Column('key_id', _text(32), nullable=False),
    sa.Column('person', _text(200), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', _text(200), nullable=True),
    sa.Column('accepted_key_id', _text(32), nullable=True),
    sa.Column('accepted_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trainee_absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainee_absence_class_id'), ['class_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trainee_absence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainee_absence_class_id'))
    op.drop_table('trainee_absence')
    with op.batch_alter_table('onsite_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onsite_check_class_id'))
    op.drop_table('onsite_check')
    with op.batch_alter_table('late_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_late_registration_organisation_id'))
    op.drop_table('late_registration')
    op.drop_table('class_assessment')
    with op.batch_alter_table('class_trainee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_trainee_person_hash'))
    op.drop_table('class_trainee')
