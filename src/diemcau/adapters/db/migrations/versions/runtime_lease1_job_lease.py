"""A lease on every job row: owner and heartbeat (jobs.lease).

Revision ID: runtime_lease1
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "runtime_lease1"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("owner", sa.String(length=128), server_default="", nullable=False))
    op.add_column("jobs", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "heartbeat_at")
    op.drop_column("jobs", "owner")
