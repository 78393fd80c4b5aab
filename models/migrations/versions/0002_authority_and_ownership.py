"""authority and ownership: jurisdictions, authority overrides, learners per platform with a
person link, versioned enrolment and roster photos, the values each verdict was judged by, and
judging failures kept for inspectors

Existing data is carried over: every organisation but the admins' is put in the jurisdiction
`zhengzhou` (the service's only policy so far was zhengzhou-2022); a learner row is made for
every (platform, learner id) seen in events, photos and sessions; photos become version 1; every
learner is marked to be judged again, since the old judging mixed platforms that shared an id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 15:30:00
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

def _drop_unique(table: str, columns: list[str], named: bool = False) -> None:
    """`named`: made by this revision with PostgreSQL's default name (0001's were unnamed, and
    SQLite keeps them without a name: the reflected table is handed to batch mode with one)."""
    bind = op.get_bind()
    name = f"{table}_{'_'.join(columns)}_key"
    if bind.dialect.name == "postgresql" or named:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="unique")
        return
    reflected = sa.Table(table, sa.MetaData(), autoload_with=bind)
    for constraint in reflected.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and [c.name for c in constraint.columns] == columns:
            constraint.name = name
    with op.batch_alter_table(table, copy_from=reflected) as batch_op:
        batch_op.drop_constraint(name, type_="unique")


def _add_unique(table: str, columns: list[str]) -> None:
    name = f"{table}_{'_'.join(columns)}_key"
    with op.batch_alter_table(table) as batch_op:
        batch_op.create_unique_constraint(name, columns)


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(timezone.utc)

    with op.batch_alter_table('organisation') as batch_op:
        batch_op.add_column(sa.Column('jurisdiction', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
    op.execute("UPDATE organisation SET jurisdiction = 'zhengzhou' WHERE kind <> 'admin'")

    op.create_table('policy_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('class_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('in_force_from', sa.Date(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_class.id'], ),
    sa.ForeignKeyConstraint(['key_id'], ['api_key.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('policy_override') as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_override_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_override_jurisdiction'), ['jurisdiction'], unique=False)

    op.create_table('learner',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('person_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'learner_ref')
    )
    with op.batch_alter_table('learner') as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_person_hash'), ['person_hash'], unique=False)

    seen = bind.execute(sa.text(
        "SELECT organisation_id, learner FROM event UNION SELECT organisation_id, learner FROM learner_photo "
        "UNION SELECT organisation_id, learner FROM learner_session UNION SELECT organisation_id, learner FROM assessment "
        "UNION SELECT organisation_id, learner FROM challenge")).all()
    learner_table = sa.table('learner', sa.column('id'), sa.column('organisation_id'), sa.column('learner_ref'),
                             sa.column('created_at', models.types.UTCDateTime(timezone=True)))
    ids = {(org, ref): uuid.uuid4().hex for org, ref in seen}
    if ids:
        op.bulk_insert(learner_table, [{"id": i, "organisation_id": org, "learner_ref": ref, "created_at": now}
                                       for (org, ref), i in ids.items()])

    with op.batch_alter_table('event') as batch_op:
        batch_op.add_column(sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_event_learner_id'), ['learner_id'], unique=False)
        batch_op.create_foreign_key('fk_event_learner_id', 'learner', ['learner_id'], ['id'])
    op.execute("UPDATE event SET learner_id = (SELECT l.id FROM learner l WHERE l.organisation_id = event.organisation_id "
               "AND l.learner_ref = event.learner)")

    op.create_table('learner_photo_version',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('learner_id', 'version')
    )
    with op.batch_alter_table('learner_photo_version') as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_photo_version_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_photo_version_organisation_id'), ['organisation_id'], unique=False)
    old_photos = bind.execute(sa.text("SELECT learner, organisation_id, stored_name, sha256, created_at FROM learner_photo")).all()
    if old_photos:
        photo_table = sa.table('learner_photo_version', sa.column('id'), sa.column('learner_id'), sa.column('organisation_id'),
                               sa.column('version'), sa.column('stored_name'), sa.column('sha256'),
                               sa.column('created_at', models.types.UTCDateTime(timezone=True)))
        op.bulk_insert(photo_table, [{"id": uuid.uuid4().hex, "learner_id": ids[(org, ref)], "organisation_id": org,
                                      "version": 1, "stored_name": stored, "sha256": sha, "created_at": now}
                                     for ref, org, stored, sha, _ in old_photos])
    with op.batch_alter_table('learner_photo') as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_photo_organisation_id'))
    op.drop_table('learner_photo')

    _drop_unique('roster_photo', ['class_id', 'trainee_id'])
    with op.batch_alter_table('roster_photo') as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('roster_photo') as batch_op:
        batch_op.alter_column('version', server_default=None)
    _add_unique('roster_photo', ['class_id', 'trainee_id', 'version'])

    _drop_unique('learner_session', ['learner', 'platform', 'session'])
    with op.batch_alter_table('learner_session') as batch_op:
        batch_op.add_column(sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('judged_by', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_learner_session_learner_id'), ['learner_id'], unique=False)
        batch_op.create_foreign_key('fk_learner_session_learner_id', 'learner', ['learner_id'], ['id'])
    op.execute("UPDATE learner_session SET learner_id = (SELECT l.id FROM learner l "
               "WHERE l.organisation_id = learner_session.organisation_id AND l.learner_ref = learner_session.learner)")
    _add_unique('learner_session', ['learner_id', 'session'])

    op.create_table('judging_failure',
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retry_after', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_failed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )

    # Judge everyone again, as subjects: the old rows named learners across platforms.
    op.execute("DELETE FROM dirty_learner")
    if ids:
        dirty = sa.table('dirty_learner', sa.column('learner'), sa.column('since', models.types.UTCDateTime(timezone=True)),
                         sa.column('job_id'))
        op.bulk_insert(dirty, [{"learner": f"l:{i}", "since": now, "job_id": None} for i in ids.values()])
        job = sa.table('job', sa.column('id'), sa.column('kind'), sa.column('status'), sa.column('stage'),
                       sa.column('progress'), sa.column('attempts'),
                       sa.column('created_at', models.types.UTCDateTime(timezone=True)))
        op.bulk_insert(job, [{"id": uuid.uuid4().hex, "kind": "judge_learners", "status": "queued", "stage": "",
                              "progress": 0.0, "attempts": 0, "created_at": now}])


def downgrade() -> None:
    op.drop_table('judging_failure')
    _drop_unique('learner_session', ['learner_id', 'session'], named=True)
    with op.batch_alter_table('learner_session') as batch_op:
        batch_op.drop_constraint('fk_learner_session_learner_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_learner_session_learner_id'))
        batch_op.drop_column('judged_by')
        batch_op.drop_column('learner_id')
    with op.batch_alter_table('learner_session') as batch_op:
        batch_op.create_unique_constraint('learner_session_learner_platform_session_key', ['learner', 'platform', 'session'])

    _drop_unique('roster_photo', ['class_id', 'trainee_id', 'version'], named=True)
    op.execute("DELETE FROM roster_photo WHERE version > 1")
    with op.batch_alter_table('roster_photo') as batch_op:
        batch_op.drop_column('version')
        batch_op.create_unique_constraint('roster_photo_class_id_trainee_id_key', ['class_id', 'trainee_id'])

    op.create_table('learner_photo',
    sa.Column('learner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('learner')
    )
    with op.batch_alter_table('learner_photo') as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_photo_organisation_id'), ['organisation_id'], unique=False)
    # The latest version of each learner, once per learner id (the old table had one per id).
    op.execute("INSERT INTO learner_photo (learner, organisation_id, stored_name, sha256, created_at) "
               "SELECT l.learner_ref, p.organisation_id, p.stored_name, p.sha256, p.created_at "
               "FROM learner_photo_version p JOIN learner l ON l.id = p.learner_id "
               "WHERE p.version = (SELECT max(q.version) FROM learner_photo_version q WHERE q.learner_id = p.learner_id) "
               "AND l.id = (SELECT min(m.id) FROM learner m WHERE m.learner_ref = l.learner_ref)")
    op.drop_table('learner_photo_version')

    with op.batch_alter_table('event') as batch_op:
        batch_op.drop_constraint('fk_event_learner_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_event_learner_id'))
        batch_op.drop_column('learner_id')
    op.drop_table('learner')
    op.drop_table('policy_override')
    with op.batch_alter_table('organisation') as batch_op:
        batch_op.drop_column('jurisdiction')
