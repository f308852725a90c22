"""trust_login: login throttle counters (per account and address, per address, per account)

Revision ID: trust_login1
Revises: 0002
Create Date: 2026-12-06 23:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "trust_login1"
down_revision = "0002"
branch_labels = ("trust_login",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index(op.f("ix_login_throttle_last_failure"), "login_throttle", ["last_failure"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_last_failure"), table_name="login_throttle")
    op.drop_table("login_throttle")
