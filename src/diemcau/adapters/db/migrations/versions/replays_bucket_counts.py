"""replays: per-lecture replayed seconds in 10 s stretches

Revision ID: replays1
Revises: 0002
Create Date: 2026-11-22 23:39:36.014543
"""

from alembic import op
import sqlalchemy as sa


revision = "replays1"
down_revision = "0002"
branch_labels = ("replays",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lecture_replay_buckets",
        sa.Column("lecture_id", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("replayed_seconds", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("lecture_id", "bucket"),
    )


def downgrade() -> None:
    op.drop_table("lecture_replay_buckets")
