"""The replay index's block indexes hold what a lookup reads (issue #20): (block, hash, at_s,
kind, id), so the candidates come from the index alone; they replace the single-column ones.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('face_hash', schema=None) as batch_op:
        for i in range(4):
            batch_op.drop_index(f'ix_face_hash_b{i}')
            batch_op.create_index(f'ix_face_hash_probe_b{i}', [f'b{i}', 'hash', 'at_s', 'kind', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('face_hash', schema=None) as batch_op:
        for i in range(4):
            batch_op.drop_index(f'ix_face_hash_probe_b{i}')
            batch_op.create_index(f'ix_face_hash_b{i}', [f'b{i}'], unique=False)
