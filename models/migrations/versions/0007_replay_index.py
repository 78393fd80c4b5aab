"""The replay index (issue #20): faces found once per stored image (image_face) and every
capture's and enrolment photo's face hash cut into four indexed 16-bit blocks (face_hash). The
captures and photos stored before are entered with their faces still to be found: the next
judging job finds them (from the caches of faces found before where it can).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_face',
    sa.Column('image', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('faces', sa.JSON(), nullable=False),
    sa.Column('found_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('image')
    )
    op.create_table('face_hash',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('organisation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('learner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('session', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('image', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('at_s', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('face_px', sa.Integer(), nullable=True),
    sa.Column('second_px', sa.Integer(), nullable=True),
    sa.Column('hash', sa.BigInteger(), nullable=True),
    sa.Column('b0', sa.Integer(), nullable=True),
    sa.Column('b1', sa.Integer(), nullable=True),
    sa.Column('b2', sa.Integer(), nullable=True),
    sa.Column('b3', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'ref')
    )
    with op.batch_alter_table('face_hash', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_hash_b0'), ['b0'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_b1'), ['b1'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_b2'), ['b2'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_b3'), ['b3'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_face_px'), ['face_px'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_hash_nonce'), ['nonce'], unique=False)

    _enter_existing()


def _enter_existing() -> None:
    """Rows for the captures and photos already stored (faces not looked for yet)."""
    import json
    from datetime import datetime, timezone

    conn = op.get_bind()
    from monitor.online.events import TYPE_ORDER
    now = datetime.now(timezone.utc)
    table = sa.table('face_hash', *(sa.column(c) for c in (
        'kind', 'ref', 'organisation_id', 'learner_id', 'session', 'image', 'source', 'at_s', 'rank', 'nonce', 'created_at')))
    rows = []
    for org, learner_id, body in conn.execute(sa.text(
            "SELECT organisation_id, learner_id, body FROM event WHERE type IN ('face_capture', 'photo_kept') "
            "AND learner_id IS NOT NULL ORDER BY id")):
        e = json.loads(body)
        frames = e.get('images') or ([e['image']] if e.get('image') else [])
        if not frames:
            continue
        at = datetime.fromisoformat(e['at'].replace('Z', '+00:00'))
        rows.append({'kind': 'capture', 'ref': f"{org}:{e['id']}", 'organisation_id': org, 'learner_id': learner_id,
                     'session': f"{learner_id}:{e['session']}", 'image': f"captures/{frames[0]}", 'source': frames[0],
                     'at_s': at.timestamp(), 'rank': TYPE_ORDER[e['type']], 'nonce': e.get('nonce'), 'created_at': now})
    for photo_id, org, learner_id, version, stored_name in conn.execute(sa.text(
            "SELECT id, organisation_id, learner_id, version, stored_name FROM learner_photo_version")):
        rows.append({'kind': 'photo', 'ref': photo_id, 'organisation_id': org, 'learner_id': learner_id, 'session': None,
                     'image': stored_name, 'source': f"enrolment photo of {learner_id}#{version}", 'at_s': None,
                     'rank': None, 'nonce': None, 'created_at': now})
    for start in range(0, len(rows), 500):
        conn.execute(table.insert(), rows[start:start + 500])


def downgrade() -> None:
    with op.batch_alter_table('face_hash', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_hash_nonce'))
        batch_op.drop_index(batch_op.f('ix_face_hash_learner_id'))
        batch_op.drop_index(batch_op.f('ix_face_hash_face_px'))
        batch_op.drop_index(batch_op.f('ix_face_hash_b3'))
        batch_op.drop_index(batch_op.f('ix_face_hash_b2'))
        batch_op.drop_index(batch_op.f('ix_face_hash_b1'))
        batch_op.drop_index(batch_op.f('ix_face_hash_b0'))

    op.drop_table('face_hash')
    op.drop_table('image_face')
    # ### end Alembic commands ###
