"""materials: each material's extraction state (text is read by a background job, not in the upload)

Revision ID: trust_headers1
Revises: materials1
Create Date: 2026-12-07 00:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "trust_headers1"
down_revision = "materials1"  # the column goes on materials1's table
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lecture_materials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="ready", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("lecture_materials", schema=None) as batch_op:
        batch_op.drop_column("state")
