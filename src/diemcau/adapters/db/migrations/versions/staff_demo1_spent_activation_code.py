"""staff_demo: remember the hash of a member's spent activation code, to say "already used" to whoever holds it

Revision ID: staff_demo1
Revises: 0002
Create Date: 2026-12-07 02:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "staff_demo1"
down_revision = "0002"
branch_labels = ("staff_demo",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("spent_code_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("spent_code_hash")
