"""questions: lecture questions and answers

Revision ID: questions1
Revises: 0002
Create Date: 2026-11-22 23:39:36.014543
"""

from alembic import op
import sqlalchemy as sa


revision = "questions1"
down_revision = "0002"
branch_labels = ("questions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lecture_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lecture_id", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("asker", sa.String(length=32), nullable=False),
        sa.Column("asker_path", sa.String(length=1024), nullable=False),
        sa.Column("moment", sa.Double(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lecture_questions_asker"), ["asker"], unique=False)
        batch_op.create_index(batch_op.f("ix_lecture_questions_asker_path"), ["asker_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_lecture_questions_course_id"), ["course_id"], unique=False)
        batch_op.create_index("ix_lecture_questions_lecture_moment", ["lecture_id", "moment"], unique=False)
        batch_op.create_index("ix_lecture_questions_waiting", ["answered_at", "asker_path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lecture_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_lecture_questions_waiting")
        batch_op.drop_index("ix_lecture_questions_lecture_moment")
        batch_op.drop_index(batch_op.f("ix_lecture_questions_course_id"))
        batch_op.drop_index(batch_op.f("ix_lecture_questions_asker_path"))
        batch_op.drop_index(batch_op.f("ix_lecture_questions_asker"))
    op.drop_table("lecture_questions")
