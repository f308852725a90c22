"""questions: the client's id of a question, unique per asker, so a replayed post stores it once

Revision ID: offask1
Revises: questions2
Create Date: 2026-12-07 15:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "offask1"
down_revision = "questions2"  # the column goes on questions1's table, after questions2's
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_lecture_questions_asker_client_id", ["asker", "client_id"])


def downgrade() -> None:
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_lecture_questions_asker_client_id", type_="unique")
        batch_op.drop_column("client_id")
