"""questions: trainers may hide a question (moderation)

Revision ID: questions2
Revises: questions1
Create Date: 2026-11-24 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "questions2"
down_revision = "questions1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("hidden_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("hidden_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.drop_column("hidden_reason")
        batch_op.drop_column("hidden_by")
        batch_op.drop_column("hidden_at")
