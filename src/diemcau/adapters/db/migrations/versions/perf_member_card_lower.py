"""perf: index members by lower(card_number), the caller lookup of every request

Revision ID: perf1
Revises: 0002
Create Date: 2026-11-23 00:40:00

Written by hand: autogenerate on SQLite cannot see expression indexes (SQLAlchemy does not reflect them
there); on PostgreSQL it finds nothing left to add after this revision.
"""

from alembic import op
import sqlalchemy as sa


revision = "perf1"
down_revision = "0002"
branch_labels = ("perf",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_members_card_number_lower", "members", [sa.text("lower(card_number)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_members_card_number_lower", table_name="members")
